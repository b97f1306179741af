import type { ContainmentResult } from '../../lambdas/shared/types';
import { healthEvent } from '../../scripts/local/events';
import { type Harness, LOCAL_ACCOUNT_ID, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ mode: 'dry-run', loginProfile: 'delete', regions: 'us-east-1' });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

it('decides and reports in dry-run mode, and changes nothing', async () => {
  const user = await h.seed('dry-run-user');

  const outcome = await h.responder.respond(
    healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
  );

  expect(outcome?.status).toBe('SUCCEEDED');
  const [result] = (outcome?.taskOutputs['Contain the key'] ?? []) as ContainmentResult[];
  expect(result.decision).toBe('dry-run');
  expect(result.actions.map((a) => [a.action, a.planned])).toEqual([
    ['iam:UpdateAccessKey', true],
    ['iam:PutUserPolicy', true],
    ['iam:DeleteLoginProfile', true],
  ]);
  expect(await h.statuses(user.userName)).toEqual({ [user.victimKey]: 'Active', [user.secondKey]: 'Active' });
  expect(await h.userPolicies(user.userName)).toEqual({});
  const alerts = await h.responder.readAlerts();
  expect(alerts).toHaveLength(1);
  expect(alerts[0].subject).toMatch(/^\[DRY RUN\]/);
  expect(alerts[0].message).toContain('PLANNED (dry run)');
});
