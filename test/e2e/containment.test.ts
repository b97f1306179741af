import { randomUUID } from 'node:crypto';
import type { ContainmentResult } from '../../lambdas/shared/types';
import { healthEvent } from '../../scripts/local/events';
import { type Harness, LOCAL_ACCOUNT_ID, startHarness } from './harness';

const EXEMPT_TAG = 'security:exempt-from-auto-containment';
const CANARY_TAG = 'exposed-key-responder:canary';

let h: Harness;

beforeAll(async () => {
  // Two regions keep these containment cases quick; the investigation suite covers every region.
  h = await startHarness({ drills: true, exemptTag: EXEMPT_TAG, regions: 'us-east-1,us-west-2' });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

beforeEach(async () => {
  await h.responder.readAlerts();
});

function containResults(
  outcome: { taskOutputs: Record<string, unknown[]> } | undefined,
): ContainmentResult[] {
  return (outcome?.taskOutputs['Contain the key'] ?? []) as ContainmentResult[];
}

describe('a leaked key of an IAM user', () => {
  it('is deactivated, its sessions revoked, the other key left alone, and one alert sent', async () => {
    const user = await h.seed('ci-deployer');
    const event = healthEvent({
      accessKeyIds: [user.victimKey],
      accountId: LOCAL_ACCOUNT_ID,
      userName: user.userName,
    });

    const outcome = await h.responder.respond(event);

    expect(outcome?.status).toBe('SUCCEEDED');
    expect(await h.statuses(user.userName)).toEqual({
      [user.victimKey]: 'Inactive',
      [user.secondKey]: 'Active',
    });
    const policies = await h.userPolicies(user.userName);
    const deny = policies.ExposedKeyResponderRevokeSessions?.Statement[0];
    expect(deny).toMatchObject({ Effect: 'Deny', Action: '*', Resource: '*' });
    expect(deny?.Condition).toHaveProperty(['DateLessThan', 'aws:TokenIssueTime']);
    const alerts = await h.responder.readAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].subject).toBe(
      `[CONTAINED] Leaked key ${user.victimKey} (user ci-deployer) in ${LOCAL_ACCOUNT_ID}`,
    );
    expect(alerts[0].message).toContain('CONTAINED');
    expect(alerts[0].message).toContain(`left untouched: ${user.secondKey} (Active)`);
    expect(alerts[0].message).toMatch(/\d+ s after AWS detected it/);
  });

  it('is contained once and alerted once when the event arrives three times and from the backup region', async () => {
    const user = await h.seed('redelivered');
    const event = healthEvent({
      accessKeyIds: [user.victimKey],
      accountId: LOCAL_ACCOUNT_ID,
      communicationId: randomUUID(),
    });
    const backupCopy = {
      ...event,
      id: randomUUID(),
      region: 'us-west-2',
      detail: { ...(event.detail as object), backupEvent: 'true' },
    };

    const outcomes = [
      await h.responder.respond(event),
      await h.responder.respond(event),
      await h.responder.respond(event),
      await h.responder.execute(backupCopy),
    ];

    expect(outcomes.map((o) => o?.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const results = outcomes.flatMap(containResults);
    expect(results).toHaveLength(4);
    // Every later execution got the first containment's stored result instead of acting again.
    expect(new Set(results.map((r) => r.containedAt)).size).toBe(1);
    expect(new Set(results.map((r) => r.incidentId)).size).toBe(1);
    expect(await h.responder.readAlerts()).toHaveLength(1);
    expect(await h.statuses(user.userName)).toEqual({
      [user.victimKey]: 'Inactive',
      [user.secondKey]: 'Active',
    });
  });

  it('contains a key again when a new notification names it after it was switched back on', async () => {
    const user = await h.seed('re-leaked');
    await h.responder.respond(healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }));
    await h.iam.send(
      new (await import('@aws-sdk/client-iam')).UpdateAccessKeyCommand({
        UserName: user.userName,
        AccessKeyId: user.victimKey,
        Status: 'Active',
      }),
    );

    const second = await h.responder.respond(
      healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
    );

    expect(containResults(second)[0]).toMatchObject({ decision: 'contained' });
    expect(containResults(second)[0].duplicateOf).toBeUndefined();
    expect((await h.statuses(user.userName))[user.victimKey]).toBe('Inactive');
    expect(await h.responder.readAlerts()).toHaveLength(2);
  });

  it('contains the keys of every page of a notification and alerts once per page', async () => {
    const first = await h.seed('paged-one');
    const second = await h.seed('paged-two');
    const communicationId = randomUUID();
    const page = (key: string, n: string) => {
      const event = healthEvent({ accessKeyIds: [key], accountId: LOCAL_ACCOUNT_ID, communicationId });
      return { ...event, detail: { ...(event.detail as object), page: n, totalPages: '2' } };
    };

    await h.responder.respond(page(first.victimKey, '1'));
    await h.responder.respond(page(second.victimKey, '2'));
    await h.responder.respond(page(second.victimKey, '2'));

    expect((await h.statuses(first.userName))[first.victimKey]).toBe('Inactive');
    expect((await h.statuses(second.userName))[second.victimKey]).toBe('Inactive');
    const alerts = await h.responder.readAlerts();
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringContaining(first.victimKey),
      expect.stringContaining(second.victimKey),
    ]);
  });

  it("ends quietly when AWS's quarantine of the user follows the Health event for the same key", async () => {
    const user = await h.seed('quarantined-after');
    await h.iam.send(
      new (await import('@aws-sdk/client-iam')).UpdateAccessKeyCommand({
        UserName: user.userName,
        AccessKeyId: user.secondKey,
        Status: 'Inactive',
      }),
    );
    await h.responder.respond(healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }));
    await h.responder.readAlerts();
    // The victim key is inactive now, so the quarantine's user has no active key left.
    const outcome = await h.responder.respond(quarantineEvent(user.userName));

    expect(outcome?.status).toBe('SUCCEEDED');
    const alerts = await h.responder.readAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].message).toContain('no active access key left');
  });

  it('contains the only active key of a user AWS quarantined, then ignores the Health event for it', async () => {
    const user = await h.seed('quarantined-first');
    await h.iam.send(
      new (await import('@aws-sdk/client-iam')).UpdateAccessKeyCommand({
        UserName: user.userName,
        AccessKeyId: user.secondKey,
        Status: 'Inactive',
      }),
    );

    const first = await h.responder.respond(quarantineEvent(user.userName));
    const second = await h.responder.respond(
      healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
    );

    expect(containResults(first)[0]).toMatchObject({ accessKeyId: user.victimKey, decision: 'contained' });
    expect(containResults(second)[0].duplicateOf).toBe(containResults(first)[0].incidentId);
    expect(await h.responder.readAlerts()).toHaveLength(1);
    expect((await h.statuses(user.userName))[user.victimKey]).toBe('Inactive');
  });
});

describe('decisions that change nothing', () => {
  it('only reports a key of a user carrying the exempt tag', async () => {
    const user = await h.seed('exempt-app', { [EXEMPT_TAG]: 'true' });

    const outcome = await h.responder.respond(
      healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
    );

    expect(containResults(outcome)[0].decision).toBe('notify-only');
    expect(await h.statuses(user.userName)).toEqual({
      [user.victimKey]: 'Active',
      [user.secondKey]: 'Active',
    });
    expect(await h.userPolicies(user.userName)).toEqual({});
    const alerts = await h.responder.readAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].subject).toContain('[NOT CONTAINED]');
    expect(alerts[0].message).toContain('exempt tag');
  });

  it('says so when the key is unknown in the account', async () => {
    const unknownKey = 'AKIAZZZZZZZZZZZZZZZZ';

    const outcome = await h.responder.respond(
      healthEvent({ accessKeyIds: [unknownKey], accountId: LOCAL_ACCOUNT_ID }),
    );

    expect(outcome?.status).toBe('SUCCEEDED');
    expect(containResults(outcome)[0].decision).toBe('not-found');
    const alerts = await h.responder.readAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].subject).toContain('[NOT FOUND]');
    expect(alerts[0].message).toContain(`IAM knows no key ${unknownKey}`);
  });
});

describe('malformed and hostile events', () => {
  let victim: Awaited<ReturnType<Harness['seed']>>;
  let canary: Awaited<ReturnType<Harness['seed']>>;

  beforeAll(async () => {
    victim = await h.seed('hostile-target');
    canary = await h.seed('drill-canary', { [CANARY_TAG]: 'true' });
  });

  const base = () => healthEvent({ accessKeyIds: [victim.victimKey], accountId: LOCAL_ACCOUNT_ID });
  const withDetail = (patch: Record<string, unknown>) => {
    const event = base();
    return { ...event, detail: { ...(event.detail as object), ...patch } };
  };

  const cases: [string, () => unknown, RegExp][] = [
    [
      'no affected entities and no public key',
      () => withDetail({ affectedEntities: [], eventMetadata: {} }),
      /InvalidEventError[\s\S]*names no key to contain/,
    ],
    [
      'an invalid key format',
      () => withDetail({ affectedEntities: [{ entityValue: 'AKIA-not-a-key' }], eventMetadata: {} }),
      /not an access key ID/,
    ],
    [
      'entities of the wrong type',
      () => withDetail({ affectedEntities: victim.victimKey }),
      /InvalidEventError[\s\S]*detail\.affectedEntities/,
    ],
    [
      'an oversized metadata field',
      () =>
        withDetail({
          eventMetadata: { publicKey: victim.victimKey, exposedUrl: `https://x/${'a'.repeat(5000)}` },
        }),
      /eventMetadata\.exposedUrl: longer than 512 characters/,
    ],
    [
      'an oversized entity list',
      () =>
        withDetail({
          affectedEntities: Array.from({ length: 300 }, () => ({ entityValue: victim.victimKey })),
        }),
      /more than 250 affected entities/,
    ],
    [
      'an oversized entity value',
      () => withDetail({ affectedEntities: [{ entityValue: 'A'.repeat(20_000) }], eventMetadata: {} }),
      /\(20000 chars\): not an access key ID/,
    ],
    ['a string instead of an event', () => 'AKIA please deactivate', /not an EventBridge event object/],
    ['an unknown source', () => ({ ...base(), source: 'evil.corp' }), /Unexpected event source "evil\.corp"/],
    [
      'an event type that is not a leak',
      () => withDetail({ eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED' }),
      /is not a leaked-credential event/,
    ],
    [
      'no notification id',
      () => withDetail({ communicationId: undefined, eventArn: undefined }),
      /neither detail\.communicationId nor detail\.eventArn/,
    ],
    [
      'the quarantine policy attached by someone in the account',
      () => ({
        ...quarantineEvent(victim.userName),
        detail: { ...quarantineEvent(victim.userName).detail, sourceIPAddress: '203.0.113.9' },
      }),
      /not by AWS/,
    ],
    [
      'only a temporary key',
      () => withDetail({ affectedEntities: [{ entityValue: 'ASIAZZZZZZZZZZZZZZZZ' }], eventMetadata: {} }),
      /temporary \(ASIA\) credential/,
    ],
  ];

  it.each(cases)(
    '%s: fails with a clear error and a failure alert, no IAM change',
    async (_name, make, expected) => {
      const outcome = await h.responder.execute(make());

      expect(outcome.status).toBe('FAILED');
      const alerts = await h.responder.readAlerts();
      expect(alerts).toHaveLength(1);
      expect(alerts[0].subject).toMatch(/^\[FAILED\]/);
      expect(alerts[0].message).toMatch(expected);
      expect(alerts[0].message).toContain('changed NO key');
      expect(await h.statuses(victim.userName)).toEqual({
        [victim.victimKey]: 'Active',
        [victim.secondKey]: 'Active',
      });
      expect(await h.userPolicies(victim.userName)).toEqual({});
    },
  );

  it('refuses a key the event places in another account', async () => {
    const event = healthEvent({ accessKeyIds: [victim.victimKey], accountId: '999999999999' });

    const outcome = await h.responder.execute(event);

    expect(outcome.status).toBe('FAILED');
    expect(containResults(outcome)[0].decision).toBe('foreign-account');
    const alerts = await h.responder.readAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].subject).toContain('[REFUSED]');
    expect(alerts[0].message).toContain('refuses to act elsewhere');
    expect(await h.statuses(victim.userName)).toEqual({
      [victim.victimKey]: 'Active',
      [victim.secondKey]: 'Active',
    });
  });

  it('refuses a drill event for a user without the canary tag', async () => {
    const event = healthEvent({
      accessKeyIds: [victim.victimKey],
      accountId: LOCAL_ACCOUNT_ID,
      source: 'exposed-key-responder.drill',
    });

    const outcome = await h.responder.respond(event);

    expect(outcome?.status).toBe('FAILED');
    const alerts = await h.responder.readAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].subject).toMatch(/^\[DRILL FAILED\]/);
    expect(alerts[0].message).toContain('DrillNotAllowedError');
    expect(alerts[0].message).toContain('does not carry the canary tag');
    expect(await h.statuses(victim.userName)).toEqual({
      [victim.victimKey]: 'Active',
      [victim.secondKey]: 'Active',
    });
    expect(await h.userPolicies(victim.userName)).toEqual({});
  });

  it('contains the key of a canary user on a drill event', async () => {
    const event = healthEvent({
      accessKeyIds: [canary.victimKey],
      accountId: LOCAL_ACCOUNT_ID,
      source: 'exposed-key-responder.drill',
    });

    const outcome = await h.responder.respond(event);

    expect(outcome?.status).toBe('SUCCEEDED');
    expect(await h.statuses(canary.userName)).toEqual({
      [canary.victimKey]: 'Inactive',
      [canary.secondKey]: 'Active',
    });
    expect((await h.responder.readAlerts())[0].subject).toMatch(/^\[DRILL CONTAINED\]/);
  });

  it('never starts the workflow for events no rule matches', async () => {
    expect(await h.responder.respond({ ...base(), source: 'evil.corp' })).toBeUndefined();
    expect(await h.responder.respond({ ...base(), 'detail-type': 'Something Else' })).toBeUndefined();
    expect(await h.responder.readAlerts()).toEqual([]);
  });
});

function quarantineEvent(userName: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.iam',
    account: LOCAL_ACCOUNT_ID,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: { type: 'AWSService', invokedBy: 'AWS Internal' },
      eventTime: new Date().toISOString(),
      eventSource: 'iam.amazonaws.com',
      eventName: 'AttachUserPolicy',
      awsRegion: 'us-east-1',
      sourceIPAddress: 'AWS Internal',
      userAgent: 'AWS Internal',
      requestParameters: { userName, policyArn: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3' },
      responseElements: null,
      eventID: randomUUID(),
      recipientAccountId: LOCAL_ACCOUNT_ID,
    },
  };
}
