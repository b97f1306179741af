import { DeleteUserPolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import type { ContainmentResult } from '../../lambdas/shared/types';
import { healthEvent } from '../../scripts/local/events';
import { type Harness, LOCAL_ACCOUNT_ID, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  // The Wait state really waits 400 ms here, long enough for the "attacker" below to act.
  h = await startHarness({ regions: 'us-east-1' }, { waitMs: 400 });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

beforeEach(async () => {
  await h.responder.readAlerts();
});

it('re-applies a containment an attacker undid while IAM settled, and says so', async () => {
  const user = await h.seed('fighting-back');
  let undo: Promise<unknown> | undefined;

  const outcome = await h.responder.respond(
    healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
    (step) => {
      if (step.type === 'StateEntered' && step.state === 'Let IAM settle') {
        // An attacker with IAM rights through an older session switches the key back on.
        undo = Promise.all([
          h.iam.send(
            new UpdateAccessKeyCommand({
              UserName: user.userName,
              AccessKeyId: user.victimKey,
              Status: 'Active',
            }),
          ),
          h.iam.send(
            new DeleteUserPolicyCommand({
              UserName: user.userName,
              PolicyName: 'ExposedKeyResponderRevokeSessions',
            }),
          ),
        ]);
      }
    },
  );
  await undo;

  expect(outcome?.status).toBe('FAILED');
  expect(outcome?.error).toBe('KeyNotContained');
  expect(await h.statuses(user.userName)).toEqual({
    [user.victimKey]: 'Inactive',
    [user.secondKey]: 'Active',
  });
  expect(Object.keys(await h.userPolicies(user.userName))).toEqual(['ExposedKeyResponderRevokeSessions']);
  const alerts = await h.responder.readAlerts();
  expect(alerts.map((a) => a.subject)).toEqual([
    expect.stringMatching(/^\[CONTAINED\]/),
    expect.stringMatching(/^\[CONTAINMENT UNDONE, RE-APPLIED\]/),
  ]);
  expect(alerts[1].message).toContain('the key had been re-activated after containment; deactivated again');
  expect(alerts[1].message).toContain('the session deny had been removed');
});

it('confirms quietly when the containment held', async () => {
  const user = await h.seed('held');

  const outcome = await h.responder.respond(
    healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
  );

  expect(outcome?.status).toBe('SUCCEEDED');
  const confirmation = outcome?.taskOutputs['Confirm the containment held']?.[0] as {
    confirmation: { held: boolean; confirmations: { accessKeyId: string; held: boolean }[] };
  };
  expect(confirmation.confirmation).toEqual({
    held: true,
    confirmations: [expect.objectContaining({ accessKeyId: user.victimKey, held: true, reapplied: [] })],
  });
  expect(((outcome?.taskOutputs['Contain the key'] ?? []) as ContainmentResult[])[0].decision).toBe(
    'contained',
  );
  expect(await h.responder.readAlerts()).toHaveLength(1);
});
