import {
  type AccessKeyMetadata,
  DeleteLoginProfileCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountSummaryCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  type ContainSettings,
  containKey,
  ROOT_KEY_STEPS,
  revokeSessionsPolicy,
} from '../../lambdas/contain/contain-key';
import { AccessDeniedError, DrillNotAllowedError, TransientAwsError } from '../../lambdas/shared/errors';
import { ACCOUNT, SAMPLE_KEY } from '../fixtures/events';
import { anIncident } from '../fixtures/incidents';

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });

const NOW = new Date('2025-02-12T00:38:42.000Z');
const USER = 'ci-deployer';
const OTHER_KEY = 'AKIAOTHERKEYOTHER999';
const CANARY_TAG = 'exposed-key-responder:canary';
const POLICY_NAME = 'ExposedKeyResponderRevokeSessions';

const settings = (overrides: Partial<ContainSettings> = {}): ContainSettings => ({
  responderAccountId: ACCOUNT,
  mode: 'contain',
  revokeSessions: true,
  loginProfile: 'keep',
  canaryTag: CANARY_TAG,
  revokePolicyName: POLICY_NAME,
  now: () => NOW,
  ...overrides,
});
const exposedKey = { accessKeyId: SAMPLE_KEY, reportedUserName: USER };

const meta = (id: string, status: 'Active' | 'Inactive'): AccessKeyMetadata => ({
  AccessKeyId: id,
  Status: status,
  UserName: USER,
});
const accessDenied = (message = 'User is not authorized to perform this action') =>
  Object.assign(new Error(message), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
const throttling = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
const noSuchEntity = (message = 'not found') => new NoSuchEntityException({ message, $metadata: {} });

/**
 * IAM as it looks for a user owning the exposed key (Active) and a second key: the first
 * ListAccessKeys answers before the change, later ones after it (the read-back).
 */
function givenUserOwnsTheKey(
  options: { tags?: Record<string, string>; exposedStatus?: 'Active' | 'Inactive' } = {},
) {
  const before = [meta(SAMPLE_KEY, options.exposedStatus ?? 'Active'), meta(OTHER_KEY, 'Active')];
  const after = [meta(SAMPLE_KEY, 'Inactive'), meta(OTHER_KEY, 'Active')];
  iamMock.on(GetAccessKeyLastUsedCommand).resolves({ UserName: USER, AccessKeyLastUsed: undefined });
  iamMock
    .on(ListAccessKeysCommand)
    .resolvesOnce({ AccessKeyMetadata: before, IsTruncated: false })
    .resolves({ AccessKeyMetadata: after, IsTruncated: false });
  iamMock.on(ListUserTagsCommand).resolves({
    Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    IsTruncated: false,
  });
  iamMock.on(UpdateAccessKeyCommand).resolves({});
  iamMock.on(PutUserPolicyCommand).resolves({});
  iamMock.on(DeleteLoginProfileCommand).resolves({});
}

function expectNoIamWrites() {
  expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
  expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
  expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
}

describe('containKey', () => {
  beforeEach(() => {
    iamMock.reset();
  });

  describe('a key owned by an IAM user', () => {
    it('deactivates only the exposed key and denies the sessions issued before now', async () => {
      // Arrange
      givenUserOwnsTheKey();

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
      expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, {
        UserName: USER,
        AccessKeyId: SAMPLE_KEY,
        Status: 'Inactive',
      });
      expect(iamMock).not.toHaveReceivedCommandWith(UpdateAccessKeyCommand, { AccessKeyId: OTHER_KEY });
      expect(iamMock).toHaveReceivedCommandTimes(PutUserPolicyCommand, 1);
      expect(iamMock).toHaveReceivedCommandWith(PutUserPolicyCommand, {
        UserName: USER,
        PolicyName: POLICY_NAME,
        PolicyDocument: expect.any(String),
      });
      const policy = JSON.parse(
        iamMock.commandCalls(PutUserPolicyCommand)[0].args[0].input.PolicyDocument ?? '{}',
      );
      expect(policy.Statement).toEqual([
        expect.objectContaining({
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': NOW.toISOString() } },
        }),
      ]);
      expect(result).toMatchObject({
        accessKeyId: SAMPLE_KEY,
        incidentId: anIncident().incidentId,
        owner: { type: 'user', userName: USER },
        decision: 'contained',
        containedAt: NOW.toISOString(),
        keyStatusAfter: 'Inactive',
        otherKeys: [{ accessKeyId: OTHER_KEY, status: 'Active' }],
      });
      expect(result.actions).toEqual([
        expect.objectContaining({ action: 'iam:UpdateAccessKey', target: `${USER}/${SAMPLE_KEY}`, ok: true }),
        expect.objectContaining({ action: 'iam:PutUserPolicy', target: `${USER}/${POLICY_NAME}`, ok: true }),
      ]);
      expect(result.manualSteps).toBeUndefined();
    });

    it('asks IAM for the owner by key ID alone', async () => {
      // Arrange
      givenUserOwnsTheKey();

      // Act
      await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(iamMock.commandCalls(GetAccessKeyLastUsedCommand)[0].args[0].input).toEqual({
        AccessKeyId: SAMPLE_KEY,
      });
    });

    it('builds the revoke-sessions policy from the given instant', () => {
      // Act
      const document = JSON.parse(revokeSessionsPolicy(NOW));

      // Assert
      expect(document.Statement[0].Condition.DateLessThan['aws:TokenIssueTime']).toBe(
        '2025-02-12T00:38:42.000Z',
      );
    });

    it('confirms an already-inactive key and still revokes its sessions', async () => {
      // Arrange
      givenUserOwnsTheKey({ exposedStatus: 'Inactive' });

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
      expect(result.reason).toMatch(/already inactive/);
      expect(result.keyStatusAfter).toBe('Inactive');
      expect(iamMock).toHaveReceivedCommandTimes(PutUserPolicyCommand, 1);
    });

    // BUG: the already-inactive reason always says "revoked its sessions", even with revokeSessions=false.
    it('does not claim to have revoked sessions for an already-inactive key when revokeSessions is off', async () => {
      // Arrange
      givenUserOwnsTheKey({ exposedStatus: 'Inactive' });

      // Act
      const result = await containKey(iam, settings({ revokeSessions: false }), anIncident(), exposedKey);

      // Assert
      expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
      expect(result.reason).not.toMatch(/revoked/);
    });

    it('does not write the deny policy when revokeSessions is off', async () => {
      // Arrange
      givenUserOwnsTheKey();

      // Act
      const result = await containKey(iam, settings({ revokeSessions: false }), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
      expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
      expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
      expect(result.reason).toBe('The key was deactivated.');
    });

    it('finds the key on a later ListAccessKeys page', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock
        .on(ListAccessKeysCommand)
        .resolvesOnce({ AccessKeyMetadata: [meta(OTHER_KEY, 'Active')], IsTruncated: true, Marker: 'm2' })
        .resolvesOnce({ AccessKeyMetadata: [meta(SAMPLE_KEY, 'Active')], IsTruncated: false })
        .resolves({ AccessKeyMetadata: [meta(OTHER_KEY, 'Active'), meta(SAMPLE_KEY, 'Inactive')] });

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
      expect(iamMock).toHaveReceivedNthCommandWith(3, ListAccessKeysCommand, {
        UserName: USER,
        Marker: 'm2',
      });
    });

    it('reports the status as unknown when the read-back fails, without failing the containment', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock
        .on(ListAccessKeysCommand)
        .resolvesOnce({ AccessKeyMetadata: [meta(SAMPLE_KEY, 'Active')] })
        .rejects(throttling());

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
      expect(result.keyStatusAfter).toBe('unknown');
    });
  });

  describe('keys the responder must not touch', () => {
    it('refuses a key of another account without any IAM call', async () => {
      // Arrange
      const incident = anIncident({ accountId: '210987654321' });

      // Act
      const result = await containKey(iam, settings(), incident, exposedKey);

      // Assert
      expect(iamMock).not.toHaveReceivedAnyCommand();
      expect(result.decision).toBe('foreign-account');
      expect(result.reason).toContain('210987654321');
      expect(result.manualSteps?.[0]).toContain(`--access-key-id ${SAMPLE_KEY} --status Inactive`);
    });

    it('reports an unknown key (NoSuchEntity) as not-found and changes nothing', async () => {
      // Arrange
      iamMock
        .on(GetAccessKeyLastUsedCommand)
        .rejects(noSuchEntity('The Access Key with id AKIA... cannot be found'));

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('not-found');
      expect(result.owner.type).toBe('unknown');
      expect(result.reason).toMatch(/knows no key/);
      expect(iamMock).not.toHaveReceivedCommand(ListAccessKeysCommand);
      expectNoIamWrites();
    });

    it('recognises a root key (no owning user, AccountAccessKeysPresent=1) and asks for manual steps', async () => {
      // Arrange
      iamMock.on(GetAccessKeyLastUsedCommand).resolves({ AccessKeyLastUsed: undefined });
      iamMock.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AccountAccessKeysPresent: 1 } });

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('manual-required');
      expect(result.owner).toEqual({ type: 'root' });
      expect(result.manualSteps).toEqual(ROOT_KEY_STEPS);
      expect(iamMock).toHaveReceivedCommand(GetAccountSummaryCommand);
      expect(iamMock).not.toHaveReceivedCommand(ListAccessKeysCommand);
      expectNoIamWrites();
    });

    it('reports a key without owner as not-found when the root user has no keys', async () => {
      // Arrange
      iamMock.on(GetAccessKeyLastUsedCommand).resolves({});
      iamMock.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AccountAccessKeysPresent: 0 } });

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('not-found');
      expect(result.reason).toMatch(/root user has no access keys/);
      expectNoIamWrites();
    });

    it('reports not-found when the key is not listed under the user GetAccessKeyLastUsed named', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [meta(OTHER_KEY, 'Active')] });

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('not-found');
      expect(result.reason).toMatch(/not among that user's keys/);
      expectNoIamWrites();
    });

    it('only reports a user carrying the exempt tag', async () => {
      // Arrange
      givenUserOwnsTheKey({ tags: { 'keep-keys': 'true' } });

      // Act
      const result = await containKey(iam, settings({ exemptTag: 'keep-keys' }), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('notify-only');
      expect(result.reason).toMatch(/exempt tag keep-keys=true/);
      expect(result.manualSteps?.join('\n')).toMatch(
        /create-access-key[\s\S]*update-access-key[\s\S]*delete-access-key/,
      );
      expectNoIamWrites();
    });

    it('contains the key of a user whose exempt tag is not "true"', async () => {
      // Arrange
      givenUserOwnsTheKey({ tags: { 'keep-keys': 'false' } });

      // Act
      const result = await containKey(iam, settings({ exemptTag: 'keep-keys' }), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
    });

    it('only reports in notify-only mode', async () => {
      // Arrange
      givenUserOwnsTheKey();

      // Act
      const result = await containKey(iam, settings({ mode: 'notify-only' }), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('notify-only');
      expect(result.keyStatusAfter).toBe('Active');
      expect(result.actions).toEqual([]);
      expectNoIamWrites();
    });

    it('plans the actions without performing them in dry-run mode', async () => {
      // Arrange
      givenUserOwnsTheKey();

      // Act
      const result = await containKey(
        iam,
        settings({ mode: 'dry-run', loginProfile: 'delete' }),
        anIncident(),
        exposedKey,
      );

      // Assert
      expect(result.decision).toBe('dry-run');
      expect(result.actions).toEqual([
        {
          action: 'iam:UpdateAccessKey',
          target: `${USER}/${SAMPLE_KEY}`,
          at: NOW.toISOString(),
          ok: true,
          planned: true,
        },
        {
          action: 'iam:PutUserPolicy',
          target: `${USER}/${POLICY_NAME}`,
          at: NOW.toISOString(),
          ok: true,
          planned: true,
        },
        { action: 'iam:DeleteLoginProfile', target: USER, at: NOW.toISOString(), ok: true, planned: true },
      ]);
      expect(result.containedAt).toBeUndefined();
      expect(result.keyStatusAfter).toBe('Active');
      expectNoIamWrites();
    });
  });

  describe('drills', () => {
    it('refuses a drill on a user without the canary tag and changes nothing', async () => {
      // Arrange
      givenUserOwnsTheKey({ tags: { team: 'platform' } });
      const drill = anIncident({ trigger: 'drill' });

      // Act
      const promise = containKey(iam, settings(), drill, exposedKey);

      // Assert
      await expect(promise).rejects.toBeInstanceOf(DrillNotAllowedError);
      await expect(promise).rejects.toThrow(
        /does not carry the canary tag exposed-key-responder:canary=true/,
      );
      expectNoIamWrites();
    });

    it('refuses a drill on a user whose canary tag is not "true"', async () => {
      // Arrange
      givenUserOwnsTheKey({ tags: { [CANARY_TAG]: 'yes' } });

      // Act
      const promise = containKey(iam, settings(), anIncident({ trigger: 'drill' }), exposedKey);

      // Assert
      await expect(promise).rejects.toMatchObject({ name: 'DrillNotAllowedError' });
      expectNoIamWrites();
    });

    it('contains the key of a canary user', async () => {
      // Arrange
      givenUserOwnsTheKey({ tags: { [CANARY_TAG]: 'true' } });

      // Act
      const result = await containKey(iam, settings(), anIncident({ trigger: 'drill' }), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
      expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
      expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, {
        UserName: USER,
        AccessKeyId: SAMPLE_KEY,
        Status: 'Inactive',
      });
    });
  });

  describe('console password (loginProfile=delete)', () => {
    it('deletes the login profile of the user', async () => {
      // Arrange
      givenUserOwnsTheKey();

      // Act
      const result = await containKey(iam, settings({ loginProfile: 'delete' }), anIncident(), exposedKey);

      // Assert
      expect(iamMock).toHaveReceivedCommandTimes(DeleteLoginProfileCommand, 1);
      expect(iamMock).toHaveReceivedCommandWith(DeleteLoginProfileCommand, { UserName: USER });
      expect(result.actions.at(-1)).toMatchObject({
        action: 'iam:DeleteLoginProfile',
        ok: true,
        detail: 'console password removed',
      });
    });

    it('treats a user without console password (NoSuchEntity) as fine', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock
        .on(DeleteLoginProfileCommand)
        .rejects(noSuchEntity('Login Profile for User ci-deployer cannot be found.'));

      // Act
      const result = await containKey(iam, settings({ loginProfile: 'delete' }), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
      expect(result.actions.at(-1)).toMatchObject({
        action: 'iam:DeleteLoginProfile',
        ok: true,
        detail: 'user had no console password',
      });
      expect(result.manualSteps).toBeUndefined();
    });

    it('keeps the login profile by default', async () => {
      // Arrange
      givenUserOwnsTheKey();

      // Act
      await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
    });
  });

  describe('failures', () => {
    it('throws AccessDeniedError when UpdateAccessKey is refused, saying the key is still active', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock.on(UpdateAccessKeyCommand).rejects(accessDenied());

      // Act
      const promise = containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      await expect(promise).rejects.toBeInstanceOf(AccessDeniedError);
      await expect(promise).rejects.toThrow(/iam:UpdateAccessKey was refused.*still ACTIVE/);
      expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    });

    it('still reports the key contained when PutUserPolicy is refused, with the failed action and the manual step', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock.on(PutUserPolicyCommand).rejects(accessDenied());

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
      expect(result.containedAt).toBe(NOW.toISOString());
      expect(result.actions[1]).toMatchObject({
        action: 'iam:PutUserPolicy',
        ok: false,
        error: expect.stringMatching(/^AccessDenied: /),
      });
      expect(result.manualSteps).toEqual([
        expect.stringContaining(`aws iam put-user-policy --user-name ${USER}`),
      ]);
    });

    // BUG: the reason says "and the sessions minted from it revoked" although PutUserPolicy was refused.
    it('does not claim the sessions were revoked when PutUserPolicy was refused', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock.on(PutUserPolicyCommand).rejects(accessDenied());

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.reason).not.toMatch(/sessions minted from it revoked/);
    });

    it('throws TransientAwsError when UpdateAccessKey is throttled, so the workflow retries', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock.on(UpdateAccessKeyCommand).rejects(throttling());

      // Act
      const promise = containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      await expect(promise).rejects.toBeInstanceOf(TransientAwsError);
      await expect(promise).rejects.toThrow(/still ACTIVE/);
    });

    it('throws TransientAwsError when PutUserPolicy is throttled after the key was deactivated', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock.on(PutUserPolicyCommand).rejects(throttling());

      // Act
      const promise = containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      await expect(promise).rejects.toBeInstanceOf(TransientAwsError);
      await expect(promise).rejects.toThrow(/already inactive/);
    });

    // BUG: an unexpected (neither AccessDenied nor transient) error of a secondary action escapes unnamed,
    // so the workflow records the key as "failed ... may still be active" although IAM deactivated it.
    it('keeps the containment when a secondary action fails with an unexpected error', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock
        .on(PutUserPolicyCommand)
        .rejects(
          Object.assign(new Error('Cannot exceed quota for PoliciesPerUser'), { name: 'LimitExceeded' }),
        );

      // Act
      const result = await containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      expect(result.decision).toBe('contained');
      expect(result.actions[1]).toMatchObject({ action: 'iam:PutUserPolicy', ok: false });
    });

    it('throws AccessDeniedError when GetAccessKeyLastUsed is refused, before any write', async () => {
      // Arrange
      iamMock.on(GetAccessKeyLastUsedCommand).rejects(accessDenied());

      // Act
      const promise = containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      await expect(promise).rejects.toBeInstanceOf(AccessDeniedError);
      await expect(promise).rejects.toThrow(/No key was changed/);
      expectNoIamWrites();
    });

    it('throws TransientAwsError when ListUserTags is throttled, before any write', async () => {
      // Arrange
      givenUserOwnsTheKey();
      iamMock.on(ListUserTagsCommand).rejects(throttling());

      // Act
      const promise = containKey(iam, settings(), anIncident(), exposedKey);

      // Assert
      await expect(promise).rejects.toBeInstanceOf(TransientAwsError);
      expectNoIamWrites();
    });
  });
});
