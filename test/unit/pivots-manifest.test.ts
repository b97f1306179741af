import type { KeyRegionResult, RegionProgress, RegionTask } from '../../lambdas/collect/collect-region';
import { activityPartsPrefix } from '../../lambdas/collect/evidence';
import { type Pivot, pivotOf } from '../../lambdas/collect/pivots';
import { emptyManifest, MAX_KEYS, MAX_ROUNDS, mergeRound } from '../../lambdas/pivots/manifest';
import type { InvestigationPlan } from '../../lambdas/plan/plan-investigation';
import { cloudTrailRecord } from '../../scripts/standins/cloudtrail';
import {
  activity,
  createAccessKey,
  INCIDENT_ID,
  LEAKED_KEY,
  type MintingCall,
  SECOND_KEY,
  stsMint,
  WINDOW,
} from '../fixtures/collect/fake-cloudtrail';

const ROLE = 'arn:aws:iam::123456789012:role/deploy';
const SESSION = 'ASIAPIVOTSESSION0001';
const ROLE_SESSION = 'ASIAPIVOTROLE0000002';

describe('pivotOf', () => {
  it('reads the temporary key of GetSessionToken, and who minted it', () => {
    const pivot = pivotOf(
      stsMint('GetSessionToken', { by: LEAKED_KEY, minted: SESSION, region: 'eu-west-1' }),
    );

    expect(pivot).toEqual({
      accessKeyId: SESSION,
      mintedBy: LEAKED_KEY,
      eventName: 'GetSessionToken',
      eventId: `mint-${SESSION}`,
      eventTime: '2025-02-12T00:37:42Z',
      region: 'eu-west-1',
    });
  });

  it('reads the role of AssumeRole', () => {
    const pivot = pivotOf(stsMint('AssumeRole', { by: LEAKED_KEY, minted: ROLE_SESSION, roleArn: ROLE }));

    expect(pivot).toMatchObject({ accessKeyId: ROLE_SESSION, roleArn: ROLE, eventName: 'AssumeRole' });
  });

  it.each<MintingCall>([
    'GetFederationToken',
    'AssumeRoleWithSAML',
    'AssumeRoleWithWebIdentity',
    'AssumeRoot',
  ])('reads the temporary key of %s', (eventName) => {
    expect(pivotOf(stsMint(eventName, { by: LEAKED_KEY, minted: SESSION }))).toMatchObject({
      accessKeyId: SESSION,
      eventName,
    });
  });

  it('reads the long-term key and its user of CreateAccessKey', () => {
    const pivot = pivotOf(
      createAccessKey({ by: LEAKED_KEY, created: 'AKIABACKDOOR00000003', userName: 'svc' }),
    );

    expect(pivot).toMatchObject({
      accessKeyId: 'AKIABACKDOOR00000003',
      mintedBy: LEAKED_KEY,
      eventName: 'CreateAccessKey',
      userName: 'svc',
      region: 'us-east-1',
    });
    expect(pivot).not.toHaveProperty('roleArn');
  });

  it('ignores calls that failed', () => {
    const refusedRole = stsMint('AssumeRole', {
      by: LEAKED_KEY,
      minted: ROLE_SESSION,
      roleArn: ROLE,
      errorCode: 'AccessDenied',
    });
    // A failed call that still carries a response (defensive: errorCode alone decides).
    const withResponse = JSON.stringify({
      ...JSON.parse(stsMint('GetSessionToken', { by: LEAKED_KEY, minted: SESSION })),
      errorCode: 'AccessDenied',
    });
    const refusedKey = createAccessKey({
      by: LEAKED_KEY,
      created: 'AKIABACKDOOR00000003',
      userName: 'svc',
      errorCode: 'LimitExceeded',
    });

    expect([refusedRole, withResponse, refusedKey].map(pivotOf)).toEqual([undefined, undefined, undefined]);
  });

  it('ignores records that mint nothing, and records it cannot parse', () => {
    const other = JSON.stringify(
      cloudTrailRecord({
        eventName: 'GetSecretValue',
        eventSource: 'secretsmanager.amazonaws.com',
        responseElements: { credentials: { accessKeyId: 'not-a-pivot' } },
      }),
    );

    expect(pivotOf(activity(LEAKED_KEY, 1)[0])).toBeUndefined();
    expect(pivotOf(other)).toBeUndefined();
    expect(pivotOf('{"eventName":"AssumeRole","responseElements":{"credentials":')).toBeUndefined();
    expect(pivotOf(JSON.stringify({ eventName: 'AssumeRole', responseElements: { credentials: {} } }))).toBe(
      undefined,
    );
  });

  it('says who minted it is unknown when the caller has no access key', () => {
    const record = JSON.parse(stsMint('GetSessionToken', { by: LEAKED_KEY, minted: SESSION }));
    delete record.userIdentity.accessKeyId;

    expect(pivotOf(JSON.stringify(record))?.mintedBy).toBe('unknown');
  });
});

function aPlan(overrides: Partial<InvestigationPlan> = {}): InvestigationPlan {
  return {
    incidentId: INCIDENT_ID,
    window: WINDOW,
    regions: ['us-east-1', 'ap-south-1', 'eu-west-1'],
    round: 1,
    keys: [LEAKED_KEY],
    seen: [LEAKED_KEY],
    ...overrides,
  };
}

function aPivot(accessKeyId: string, overrides: Partial<Pivot> = {}): Pivot {
  return {
    accessKeyId,
    mintedBy: LEAKED_KEY,
    eventName: 'GetSessionToken',
    eventId: `mint-${accessKeyId}`,
    eventTime: '2025-02-12T00:37:42Z',
    region: 'us-east-1',
    ...overrides,
  };
}

type RegionOutput = RegionTask & { progress: RegionProgress };

/** A region's final state as the Map returns it. */
function regionRead(
  region: string,
  results: Omit<KeyRegionResult, 'region'>[],
  pivots: Pivot[] = [],
  pivotsTruncated?: boolean,
): RegionOutput {
  return {
    incidentId: INCIDENT_ID,
    region,
    window: WINDOW,
    keys: results.map((r) => r.accessKeyId),
    progress: {
      keyIndex: results.length,
      cursor: { pages: 0, events: 0, done: false },
      results: results.map((r) => ({ ...r, region })),
      pivots,
      ...(pivotsTruncated ? { pivotsTruncated } : {}),
      invocations: 1,
      done: true,
    },
  };
}

const complete = (accessKeyId: string, events: number, pages = Math.max(1, Math.ceil(events / 50))) => ({
  accessKeyId,
  events,
  pages,
  complete: true,
});

/** The plan of the next round, as the Follow-the-pivots handler builds it. */
const nextPlan = (plan: InvestigationPlan, nextKeys: string[]): InvestigationPlan => ({
  ...plan,
  round: plan.round + 1,
  keys: nextKeys,
  seen: [...plan.seen, ...nextKeys],
});

describe('emptyManifest', () => {
  it('lists the exposed keys as round 1, with nothing collected yet', () => {
    const manifest = emptyManifest(aPlan({ keys: [LEAKED_KEY, SECOND_KEY], seen: [LEAKED_KEY, SECOND_KEY] }));

    expect(manifest).toEqual({
      incidentId: INCIDENT_ID,
      window: WINDOW,
      rounds: 0,
      keys: [
        { accessKeyId: LEAKED_KEY, source: 'exposed', round: 1 },
        { accessKeyId: SECOND_KEY, source: 'exposed', round: 1 },
      ],
      regions: [],
      collections: [],
      pivotKeys: [],
      rolesAssumed: [],
      truncated: false,
      totals: { events: 0, pages: 0, keys: 2, regions: 0, incompleteRegions: 0 },
    });
  });
});

describe('mergeRound', () => {
  it('records coverage per region: events, pages, completeness and the reasons it is not', () => {
    // Arrange
    const plan = aPlan({ keys: [LEAKED_KEY, SECOND_KEY], seen: [LEAKED_KEY, SECOND_KEY] });
    const optIn = 'OptInRequired: You are not subscribed to this service.';
    const results = [
      regionRead('us-east-1', [complete(LEAKED_KEY, 120), complete(SECOND_KEY, 7)]),
      regionRead('ap-south-1', [
        { accessKeyId: LEAKED_KEY, events: 0, pages: 0, complete: false, error: optIn },
        { accessKeyId: SECOND_KEY, events: 0, pages: 0, complete: false, error: optIn },
      ]),
      regionRead('eu-west-1', [complete(LEAKED_KEY, 3), complete(SECOND_KEY, 0)]),
    ];

    // Act
    const { manifest, nextKeys } = mergeRound(emptyManifest(plan), plan, results);

    // Assert
    expect(manifest.regions).toEqual([
      { region: 'us-east-1', events: 127, pages: 4, complete: true, errors: [] },
      { region: 'ap-south-1', events: 0, pages: 0, complete: false, errors: [optIn] },
      { region: 'eu-west-1', events: 3, pages: 2, complete: true, errors: [] },
    ]);
    expect(manifest.totals).toEqual({ events: 130, pages: 6, keys: 2, regions: 3, incompleteRegions: 1 });
    expect(manifest.rounds).toBe(1);
    expect(manifest.truncated).toBe(false);
    expect(nextKeys).toEqual([]);
  });

  it('points each collection at its first evidence part', () => {
    const plan = aPlan();

    const { manifest } = mergeRound(emptyManifest(plan), plan, [
      regionRead('eu-west-1', [complete(LEAKED_KEY, 3)]),
    ]);

    expect(manifest.collections).toEqual([
      {
        accessKeyId: LEAKED_KEY,
        region: 'eu-west-1',
        events: 3,
        pages: 1,
        complete: true,
        partsPrefix: activityPartsPrefix(INCIDENT_ID, LEAKED_KEY, 'eu-west-1'),
      },
    ]);
  });

  it('queues the keys the round minted, once each, and records the roles assumed with which key', () => {
    // Arrange
    const plan = aPlan();
    const session = aPivot(SESSION);
    const role = aPivot(ROLE_SESSION, { eventName: 'AssumeRole', roleArn: ROLE, region: 'eu-west-1' });
    const results = [
      regionRead('us-east-1', [complete(LEAKED_KEY, 10)], [session]),
      // The same minted key reported by another region is one pivot.
      regionRead('eu-west-1', [complete(LEAKED_KEY, 4)], [role, { ...session, region: 'eu-west-1' }]),
    ];

    // Act
    const { manifest, nextKeys } = mergeRound(emptyManifest(plan), plan, results);

    // Assert
    expect(nextKeys).toEqual([SESSION, ROLE_SESSION]);
    expect(manifest.pivotKeys).toEqual([session, role]);
    expect(manifest.keys).toEqual([
      { accessKeyId: LEAKED_KEY, source: 'exposed', round: 1 },
      {
        accessKeyId: SESSION,
        source: 'pivot',
        round: 2,
        mintedBy: LEAKED_KEY,
        via: 'GetSessionToken',
        eventId: `mint-${SESSION}`,
      },
      {
        accessKeyId: ROLE_SESSION,
        source: 'pivot',
        round: 2,
        mintedBy: LEAKED_KEY,
        via: 'AssumeRole',
        eventId: `mint-${ROLE_SESSION}`,
        roleArn: ROLE,
      },
    ]);
    expect(manifest.rolesAssumed).toEqual([
      {
        roleArn: ROLE,
        sessionKey: ROLE_SESSION,
        assumedWith: LEAKED_KEY,
        eventId: `mint-${ROLE_SESSION}`,
        eventTime: '2025-02-12T00:37:42Z',
      },
    ]);
    expect(manifest.totals.keys).toBe(3);
  });

  it('never queues a key already collected or queued', () => {
    const plan = aPlan({ keys: [LEAKED_KEY, SECOND_KEY], seen: [LEAKED_KEY, SECOND_KEY] });
    // The leaked key created the second exposed key: known already, not a new round.
    const backdoor = aPivot(SECOND_KEY, { eventName: 'CreateAccessKey', userName: 'svc' });

    const { manifest, nextKeys } = mergeRound(emptyManifest(plan), plan, [
      regionRead(
        'us-east-1',
        [complete(LEAKED_KEY, 1), complete(SECOND_KEY, 1)],
        [backdoor, aPivot(SESSION)],
      ),
    ]);

    expect(nextKeys).toEqual([SESSION]);
    expect(manifest.pivotKeys.map((p) => p.accessKeyId)).toEqual([SECOND_KEY, SESSION]);
    expect(manifest.keys.filter((k) => k.source === 'pivot').map((k) => k.accessKeyId)).toEqual([SESSION]);
  });

  it('follows pivots round after round and stops after MAX_ROUNDS, saying the chain was cut', () => {
    // Arrange: every key collected mints one new key.
    const minted = (round: number) => `ASIACHAIN${String(round).padStart(11, '0')}`;
    let plan = aPlan();
    let manifest = emptyManifest(plan);
    const queued: string[][] = [];

    // Act
    for (;;) {
      const key = plan.keys[0];
      const step = mergeRound(manifest, plan, [
        regionRead('us-east-1', [complete(key, 1)], [aPivot(minted(plan.round), { mintedBy: key })]),
      ]);
      manifest = step.manifest;
      queued.push(step.nextKeys);
      if (step.nextKeys.length === 0) break;
      plan = nextPlan(plan, step.nextKeys);
    }

    // Assert
    expect(MAX_ROUNDS).toBe(3);
    expect(queued).toEqual([[minted(1)], [minted(2)], []]);
    expect(manifest.rounds).toBe(MAX_ROUNDS);
    expect(manifest.truncated).toBe(true);
    expect(manifest.keys.map((k) => [k.accessKeyId, k.round, k.mintedBy])).toEqual([
      [LEAKED_KEY, 1, undefined],
      [minted(1), 2, LEAKED_KEY],
      [minted(2), 3, minted(1)],
    ]);
    // The key minted in the last round is reported, just not followed.
    expect(manifest.pivotKeys.map((p) => p.accessKeyId)).toEqual([minted(1), minted(2), minted(3)]);
    expect(manifest.collections.map((c) => c.accessKeyId)).toEqual([LEAKED_KEY, minted(1), minted(2)]);
  });

  it('records roles assumed in the last round though their sessions are not followed', () => {
    const plan = aPlan({ round: MAX_ROUNDS });

    const { manifest, nextKeys } = mergeRound(emptyManifest(plan), plan, [
      regionRead('us-east-1', [complete(LEAKED_KEY, 1)], [aPivot(ROLE_SESSION, { roleArn: ROLE })]),
    ]);

    expect(nextKeys).toEqual([]);
    expect(manifest.truncated).toBe(true);
    expect(manifest.rolesAssumed.map((r) => r.roleArn)).toEqual([ROLE]);
  });

  it('is not truncated when the last round mints nothing', () => {
    const plan = aPlan({ round: MAX_ROUNDS });

    const { manifest } = mergeRound(emptyManifest(plan), plan, [
      regionRead('us-east-1', [complete(LEAKED_KEY, 1)]),
    ]);

    expect(manifest.truncated).toBe(false);
  });

  it('stops at MAX_KEYS keys in all and says the list was cut', () => {
    // Arrange: 48 keys seen, 5 new pivots, room for 2.
    const seen = Array.from({ length: MAX_KEYS - 2 }, (_, i) => `AKIASEEN${String(i).padStart(12, '0')}`);
    const plan = aPlan({ keys: seen, seen });
    const pivots = Array.from({ length: 5 }, (_, i) => aPivot(`ASIANEW${String(i).padStart(13, '0')}`));

    // Act
    const { manifest, nextKeys } = mergeRound(emptyManifest(plan), plan, [
      regionRead('us-east-1', [complete(seen[0], 5)], pivots),
    ]);

    // Assert
    expect(nextKeys).toEqual(pivots.slice(0, 2).map((p) => p.accessKeyId));
    expect(manifest.truncated).toBe(true);
    expect(manifest.keys).toHaveLength(MAX_KEYS);
    expect(manifest.pivotKeys).toHaveLength(5);
  });

  it('queues nothing once MAX_KEYS keys were seen', () => {
    const seen = Array.from({ length: MAX_KEYS }, (_, i) => `AKIASEEN${String(i).padStart(12, '0')}`);
    const plan = aPlan({ keys: seen, seen });

    const { manifest, nextKeys } = mergeRound(emptyManifest(plan), plan, [
      regionRead('us-east-1', [complete(seen[0], 5)], [aPivot(SESSION)]),
    ]);

    expect(nextKeys).toEqual([]);
    expect(manifest.truncated).toBe(true);
  });

  it('is truncated when a region had more pivots than it could carry', () => {
    const plan = aPlan();

    const { manifest } = mergeRound(emptyManifest(plan), plan, [
      regionRead('us-east-1', [complete(LEAKED_KEY, 1)], [aPivot(SESSION)], true),
    ]);

    expect(manifest.truncated).toBe(true);
  });

  it('adds a round to the previous manifest without changing it', () => {
    // Arrange
    const plan1 = aPlan();
    const round1 = mergeRound(emptyManifest(plan1), plan1, [
      regionRead('us-east-1', [complete(LEAKED_KEY, 10)], [aPivot(SESSION)]),
    ]);
    const before = structuredClone(round1.manifest);
    const plan2 = nextPlan(plan1, round1.nextKeys);

    // Act
    const round2 = mergeRound(round1.manifest, plan2, [
      regionRead('us-east-1', [complete(SESSION, 2)], [aPivot(SESSION, { mintedBy: SESSION })]),
      regionRead('ap-south-1', [{ accessKeyId: SESSION, events: 0, pages: 0, complete: false, error: 'x' }]),
    ]);

    // Assert
    expect(round1.manifest).toEqual(before);
    expect(round2.nextKeys).toEqual([]);
    expect(round2.manifest.rounds).toBe(2);
    expect(round2.manifest.pivotKeys).toHaveLength(1);
    expect(round2.manifest.regions).toEqual([
      { region: 'us-east-1', events: 12, pages: 2, complete: true, errors: [] },
      { region: 'ap-south-1', events: 0, pages: 0, complete: false, errors: ['x'] },
    ]);
    expect(round2.manifest.totals).toMatchObject({ events: 12, keys: 2, incompleteRegions: 1 });
  });

  // BUG: when "Read CloudTrail pages" fails for good (TransientAwsError after the workflow's retries, a
  // network error, a timeout), the workflow's Catch ("Record the region as unreadable", lib/workflow.ts)
  // passes on `progress: { results: [], done: true, failure: {Error, Cause} }`. mergeRound only reads
  // `results`, so the region disappears from the manifest instead of being recorded as incomplete.
  it('records a region whose reading failed in the workflow as incomplete, with its reason', () => {
    // Arrange: the output of the workflow's Catch Pass state for ap-east-1.
    const plan = aPlan({ keys: [LEAKED_KEY, SECOND_KEY], seen: [LEAKED_KEY, SECOND_KEY] });
    const cause =
      'cloudtrail:LookupEvents kept failing (ThrottlingException: Rate exceeded) after 8 attempts';
    const caught = {
      incidentId: INCIDENT_ID,
      region: 'ap-east-1',
      window: WINDOW,
      keys: [LEAKED_KEY, SECOND_KEY],
      progress: {
        keyIndex: 0,
        cursor: { pages: 0, events: 0, done: true },
        results: [],
        pivots: [],
        invocations: 0,
        done: true,
        failure: {
          Error: 'TransientAwsError',
          Cause: JSON.stringify({ errorType: 'TransientAwsError', errorMessage: cause }),
        },
      },
    } as RegionOutput;

    // Act
    const { manifest } = mergeRound(emptyManifest(plan), plan, [
      regionRead('us-east-1', [complete(LEAKED_KEY, 3), complete(SECOND_KEY, 1)]),
      caught,
    ]);

    // Assert
    const region = manifest.regions.find((r) => r.region === 'ap-east-1');
    expect(region).toMatchObject({ complete: false });
    expect(region?.errors.join(' ')).toContain('TransientAwsError');
    expect(manifest.totals.incompleteRegions).toBe(1);
    expect(
      manifest.collections.filter((c) => c.region === 'ap-east-1').map((c) => [c.accessKeyId, c.complete]),
    ).toEqual([
      [LEAKED_KEY, false],
      [SECOND_KEY, false],
    ]);
  });
});
