import {
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { confirmContainment, renderUndoneAlert } from '../../lambdas/confirm/confirm-containment';
import { TransientAwsError } from '../../lambdas/shared/errors';
import { SAMPLE_KEY } from '../fixtures/events';
import { aContainedResult, anIncident } from '../fixtures/incidents';

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });
const NOW = new Date('2025-02-12T00:39:42.000Z');
const POLICY = 'ExposedKeyResponderRevokeSessions';
const settings = { revokeSessions: true, revokePolicyName: POLICY, now: () => NOW };
const noSuchEntity = () => new NoSuchEntityException({ message: 'not found', $metadata: {} });

beforeEach(() => {
  iamMock.reset();
});

function keyIs(status: 'Active' | 'Inactive') {
  iamMock
    .on(ListAccessKeysCommand)
    .resolves({ AccessKeyMetadata: [{ AccessKeyId: SAMPLE_KEY, Status: status, UserName: 'ci-deployer' }] });
}

describe('confirmContainment', () => {
  it('changes nothing when the key is still inactive and the deny is still there', async () => {
    keyIs('Inactive');
    iamMock.on(GetUserPolicyCommand).resolves({ PolicyName: POLICY, PolicyDocument: '{}' });

    const [confirmation] = await confirmContainment(iam, settings, [aContainedResult()]);

    expect(confirmation).toEqual({
      accessKeyId: SAMPLE_KEY,
      userName: 'ci-deployer',
      held: true,
      reapplied: [],
    });
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
  });

  it('deactivates a key that was switched back on, naming the user', async () => {
    keyIs('Active');
    iamMock.on(GetUserPolicyCommand).resolves({ PolicyName: POLICY, PolicyDocument: '{}' });

    const [confirmation] = await confirmContainment(iam, settings, [aContainedResult()]);

    expect(confirmation.held).toBe(false);
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, {
      UserName: 'ci-deployer',
      AccessKeyId: SAMPLE_KEY,
      Status: 'Inactive',
    });
    expect(confirmation.reapplied).toEqual([
      expect.objectContaining({ action: 'iam:UpdateAccessKey', at: NOW.toISOString(), ok: true }),
    ]);
  });

  it('puts back a removed session deny with a later cut-off', async () => {
    keyIs('Inactive');
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());

    const [confirmation] = await confirmContainment(iam, settings, [aContainedResult()]);

    expect(confirmation.held).toBe(false);
    const put = iamMock.commandCalls(PutUserPolicyCommand)[0].args[0].input;
    expect(put.UserName).toBe('ci-deployer');
    expect(
      JSON.parse(put.PolicyDocument ?? '{}').Statement[0].Condition.DateLessThan['aws:TokenIssueTime'],
    ).toBe(NOW.toISOString());
  });

  it('does not look for the deny when sessions are not revoked by configuration', async () => {
    keyIs('Inactive');

    const [confirmation] = await confirmContainment(iam, { ...settings, revokeSessions: false }, [
      aContainedResult(),
    ]);

    expect(confirmation.held).toBe(true);
    expect(iamMock).not.toHaveReceivedCommand(GetUserPolicyCommand);
  });

  it('notes a key deleted since containment without failing', async () => {
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });

    const [confirmation] = await confirmContainment(iam, settings, [aContainedResult()]);

    expect(confirmation).toMatchObject({ held: true, note: expect.stringContaining('no longer exists') });
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
  });

  it('skips keys it did not contain: duplicates, dry runs, refusals', async () => {
    const results = [
      aContainedResult({ duplicateOf: '20250212-aaaaaaaaaaaa' }),
      aContainedResult({ decision: 'dry-run' }),
      aContainedResult({ decision: 'foreign-account', owner: { type: 'unknown' } }),
    ];

    expect(await confirmContainment(iam, settings, results)).toEqual([]);
    expect(iamMock.calls()).toHaveLength(0);
  });

  it('asks for a retry when IAM throttles', async () => {
    iamMock
      .on(ListAccessKeysCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      );

    await expect(confirmContainment(iam, settings, [aContainedResult()])).rejects.toBeInstanceOf(
      TransientAwsError,
    );
  });
});

describe('renderUndoneAlert', () => {
  it('says what was undone, what was re-applied, and who to look for', () => {
    const { subject, message } = renderUndoneAlert(anIncident(), [
      {
        accessKeyId: SAMPLE_KEY,
        userName: 'ci-deployer',
        held: false,
        reapplied: [
          {
            action: 'iam:UpdateAccessKey',
            target: `ci-deployer/${SAMPLE_KEY}`,
            at: NOW.toISOString(),
            ok: true,
            detail: 'the key had been re-activated after containment; deactivated again',
          },
        ],
      },
    ]);

    expect(subject).toBe(`[CONTAINMENT UNDONE, RE-APPLIED] ${SAMPLE_KEY} in ${anIncident().accountId}`);
    expect(message).toContain('re-activated after containment');
    expect(message).toContain('AttributeValue=ci-deployer');
    expect(message).toContain('SCP');
  });
});
