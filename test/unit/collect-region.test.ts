import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  collectRegion,
  LOOKUP_RATE_PER_SECOND,
  type RegionDeps,
  type RegionTask,
} from '../../lambdas/collect/collect-region';
import { TransientAwsError } from '../../lambdas/shared/errors';
import {
  activity,
  awsError,
  createAccessKey,
  eventIdOf,
  FakeClock,
  FakeTrail,
  INCIDENT_ID,
  LEAKED_KEY,
  MemorySink,
  SECOND_KEY,
  stsMint,
  throttling,
  WINDOW,
} from '../fixtures/collect/fake-cloudtrail';

const REGION = 'us-east-1';
const THIRD_KEY = 'AKIAJ7EXAMPLETHIRD77';
const ROLE = 'arn:aws:iam::123456789012:role/deploy';

const client = new CloudTrailClient({ region: REGION });
const cloudTrail = mockClient(client);

describe('collectRegion', () => {
  let clock: FakeClock;
  let trail: FakeTrail;
  let sinks: Map<string, MemorySink>;

  beforeEach(() => {
    cloudTrail.reset();
    clock = new FakeClock();
    trail = new FakeTrail(clock);
    sinks = new Map();
    cloudTrail.on(LookupEventsCommand).callsFake(trail.lookup);
  });

  const task = (keys: string[]): RegionTask => ({
    incidentId: INCIDENT_ID,
    region: REGION,
    window: WINDOW,
    keys,
  });
  const deps = (deadline = Number.POSITIVE_INFINITY): RegionDeps => ({
    client,
    sinkFor: (accessKeyId) => {
      let sink = sinks.get(accessKeyId);
      if (!sink) {
        sink = new MemorySink();
        sinks.set(accessKeyId, sink);
      }
      return sink;
    },
    deadline,
    clock: clock.now,
    sleep: clock.sleep,
  });
  /** What a Step Functions state carries: the task as JSON, never the object itself. */
  const viaState = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
  const requested = () => trail.calls.map((c) => `${c.accessKeyId}@${c.nextToken ?? 'start'}`);

  it('reads every key of the region, one after the other, within one invocation', async () => {
    // Arrange
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 120, REGION)).add(SECOND_KEY, activity(SECOND_KEY, 7, REGION));

    // Act
    const out = await collectRegion(task([LEAKED_KEY, SECOND_KEY]), deps());

    // Assert
    expect(out.progress).toMatchObject({ keyIndex: 2, done: true, invocations: 1, pivots: [] });
    expect(out.progress.results).toEqual([
      { accessKeyId: LEAKED_KEY, region: REGION, events: 120, pages: 3, complete: true },
      { accessKeyId: SECOND_KEY, region: REGION, events: 7, pages: 1, complete: true },
    ]);
    expect(sinks.get(LEAKED_KEY)?.writes.map((w) => w.part)).toEqual([0, 1, 2]);
    expect(sinks.get(SECOND_KEY)?.writes).toEqual([{ part: 0, records: 7 }]);
  });

  it('shares one bucket of 2 requests per second across the keys of the region', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 60, REGION)).add(SECOND_KEY, activity(SECOND_KEY, 60, REGION));

    await collectRegion(task([LEAKED_KEY, SECOND_KEY]), deps());

    expect(LOOKUP_RATE_PER_SECOND).toBe(2);
    expect(trail.calls.map((c) => c.at)).toEqual([0, 500, 1000, 1500]);
  });

  it('resumes across invocations at the right key and page, reading each page once', async () => {
    // Arrange: 3 pages of the first key, 2 of the second; each request takes 100 ms.
    const first = activity(LEAKED_KEY, 120, REGION);
    const second = activity(SECOND_KEY, 60, REGION);
    trail.add(LEAKED_KEY, first).add(SECOND_KEY, second).latencyMs = 100;

    // Act: requests start at 0, 500, 1000 (key 1) and 1500 (key 2); a deadline of 1550 stops there.
    const one = await collectRegion(task([LEAKED_KEY, SECOND_KEY]), deps(1_550));
    const two = await collectRegion(viaState(one), deps(clock.t + 60_000));

    // Assert
    expect(one.progress).toMatchObject({
      keyIndex: 1,
      done: false,
      invocations: 1,
      cursor: { pages: 1, events: 50, done: false, nextToken: `${SECOND_KEY}|50|0` },
    });
    expect(one.progress.results.map((r) => r.accessKeyId)).toEqual([LEAKED_KEY]);
    expect(two.progress).toMatchObject({ keyIndex: 2, done: true, invocations: 2 });
    expect(two.progress.results).toEqual([
      { accessKeyId: LEAKED_KEY, region: REGION, events: 120, pages: 3, complete: true },
      { accessKeyId: SECOND_KEY, region: REGION, events: 60, pages: 2, complete: true },
    ]);
    expect(requested()).toEqual([
      `${LEAKED_KEY}@start`,
      `${LEAKED_KEY}@${LEAKED_KEY}|50|0`,
      `${LEAKED_KEY}@${LEAKED_KEY}|100|0`,
      `${SECOND_KEY}@start`,
      `${SECOND_KEY}@${SECOND_KEY}|50|0`,
    ]);
    expect(sinks.get(LEAKED_KEY)?.all()).toEqual(first);
    expect(sinks.get(SECOND_KEY)?.all()).toEqual(second);
  });

  it('ends an invocation between two keys with a fresh cursor for the next key', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 10, REGION)).add(SECOND_KEY, activity(SECOND_KEY, 10, REGION));
    trail.latencyMs = 100;

    const one = await collectRegion(task([LEAKED_KEY, SECOND_KEY]), deps(100));
    const two = await collectRegion(viaState(one), deps(clock.t + 60_000));

    expect(one.progress).toMatchObject({
      keyIndex: 1,
      done: false,
      cursor: { pages: 0, events: 0, done: false },
    });
    expect(two.progress.results.map((r) => [r.accessKeyId, r.events])).toEqual([
      [LEAKED_KEY, 10],
      [SECOND_KEY, 10],
    ]);
    expect(requested()).toEqual([`${LEAKED_KEY}@start`, `${SECOND_KEY}@start`]);
  });

  it('is done at once for a task without keys', async () => {
    const out = await collectRegion(task([]), deps());

    expect(out.progress).toMatchObject({ done: true, results: [], keyIndex: 0 });
    expect(trail.calls).toEqual([]);
  });

  it('records every key of an unreadable region as incomplete, asking only once', async () => {
    // Arrange
    trail.add(SECOND_KEY, activity(SECOND_KEY, 5, REGION)).failAlways(awsError('OptInRequired', 403));

    // Act
    const out = await collectRegion(task([LEAKED_KEY, SECOND_KEY, THIRD_KEY]), deps());

    // Assert
    expect(trail.calls).toHaveLength(1);
    expect(out.progress.done).toBe(true);
    expect(out.progress.results).toEqual(
      [LEAKED_KEY, SECOND_KEY, THIRD_KEY].map((accessKeyId) => ({
        accessKeyId,
        region: REGION,
        events: 0,
        pages: 0,
        complete: false,
        error: 'OptInRequired: OptInRequired from the fake',
      })),
    );
  });

  it('keeps keys already read complete when the region becomes unreadable on a later key', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 10, REGION)).latencyMs = 100;
    const one = await collectRegion(task([LEAKED_KEY, SECOND_KEY, THIRD_KEY]), deps(100));
    trail.failAlways(awsError('AccessDeniedException', 400, 'not authorized to cloudtrail:LookupEvents'));

    const two = await collectRegion(viaState(one), deps(clock.t + 60_000));

    expect(two.progress.results.map((r) => [r.accessKeyId, r.complete, r.error])).toEqual([
      [LEAKED_KEY, true, undefined],
      [SECOND_KEY, false, 'AccessDeniedException: not authorized to cloudtrail:LookupEvents'],
      [THIRD_KEY, false, 'AccessDeniedException: not authorized to cloudtrail:LookupEvents'],
    ]);
    expect(two.progress.done).toBe(true);
  });

  it('lets persistent throttling fail the invocation, so the workflow retries from the carried progress', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 10, REGION)).failAlways(throttling());

    await expect(collectRegion(task([LEAKED_KEY]), deps())).rejects.toBeInstanceOf(TransientAwsError);
    expect(trail.calls).toHaveLength(8);
  });

  describe('pivots', () => {
    it('finds the keys minted by STS calls and CreateAccessKey in the pages read', async () => {
      // Arrange
      trail.add(LEAKED_KEY, [
        ...activity(LEAKED_KEY, 3, REGION),
        stsMint('GetSessionToken', { by: LEAKED_KEY, minted: 'ASIAPIVOTSESSION0001' }),
        stsMint('AssumeRole', { by: LEAKED_KEY, minted: 'ASIAPIVOTROLE0000002', roleArn: ROLE }),
        createAccessKey({ by: LEAKED_KEY, created: 'AKIABACKDOOR00000003', userName: 'backup-admin' }),
        stsMint('AssumeRole', {
          by: LEAKED_KEY,
          minted: 'ASIAREFUSED000000004',
          roleArn: 'arn:aws:iam::123456789012:role/admin',
          errorCode: 'AccessDenied',
        }),
      ]);

      // Act
      const out = await collectRegion(task([LEAKED_KEY]), deps());

      // Assert
      expect(out.progress.pivots).toEqual([
        {
          accessKeyId: 'ASIAPIVOTSESSION0001',
          mintedBy: LEAKED_KEY,
          eventName: 'GetSessionToken',
          eventId: 'mint-ASIAPIVOTSESSION0001',
          eventTime: '2025-02-12T00:37:42Z',
          region: REGION,
        },
        {
          accessKeyId: 'ASIAPIVOTROLE0000002',
          mintedBy: LEAKED_KEY,
          eventName: 'AssumeRole',
          eventId: 'mint-ASIAPIVOTROLE0000002',
          eventTime: '2025-02-12T00:37:42Z',
          region: REGION,
          roleArn: ROLE,
        },
        {
          accessKeyId: 'AKIABACKDOOR00000003',
          mintedBy: LEAKED_KEY,
          eventName: 'CreateAccessKey',
          eventId: 'create-AKIABACKDOOR00000003',
          eventTime: '2025-02-12T00:37:42Z',
          region: REGION,
          userName: 'backup-admin',
        },
      ]);
      expect(out.progress.pivotsTruncated).toBeUndefined();
    });

    it('lists a key minted twice, or seen by two keys, once', async () => {
      const minted = stsMint('GetSessionToken', { by: LEAKED_KEY, minted: 'ASIAPIVOTSESSION0001' });
      const again = stsMint('GetSessionToken', {
        by: SECOND_KEY,
        minted: 'ASIAPIVOTSESSION0001',
        id: 'mint-again',
      });
      trail.add(LEAKED_KEY, [minted, minted]).add(SECOND_KEY, [again]);

      const out = await collectRegion(task([LEAKED_KEY, SECOND_KEY]), deps());

      expect(out.progress.pivots.map((p) => [p.accessKeyId, p.mintedBy])).toEqual([
        ['ASIAPIVOTSESSION0001', LEAKED_KEY],
      ]);
    });

    it('carries pivots across invocations, and a page read again adds none twice', async () => {
      const records = [
        stsMint('GetSessionToken', { by: LEAKED_KEY, minted: 'ASIAPIVOTSESSION0001' }),
        ...activity(LEAKED_KEY, 49, REGION),
        stsMint('GetFederationToken', { by: LEAKED_KEY, minted: 'ASIAPIVOTFEDERATED02' }),
      ];
      trail.add(LEAKED_KEY, records).latencyMs = 100;
      const one = await collectRegion(task([LEAKED_KEY]), deps(100));

      // The same state twice: a retry of the second invocation reads page 1 again.
      await collectRegion(viaState(one), deps(clock.t + 60_000));
      const two = await collectRegion(viaState(one), deps(clock.t + 60_000));

      expect(one.progress.pivots.map((p) => p.accessKeyId)).toEqual(['ASIAPIVOTSESSION0001']);
      expect(two.progress.pivots.map((p) => p.accessKeyId)).toEqual([
        'ASIAPIVOTSESSION0001',
        'ASIAPIVOTFEDERATED02',
      ]);
      expect(two.progress.results).toHaveLength(1);
    });

    it('keeps at most 10 pivots per region and says the list was cut', async () => {
      const minted = Array.from({ length: 12 }, (_, i) => `ASIAPIVOT${String(i).padStart(11, '0')}`);
      trail.add(
        LEAKED_KEY,
        minted.map((key) => stsMint('GetSessionToken', { by: LEAKED_KEY, minted: key })),
      );

      const out = await collectRegion(task([LEAKED_KEY]), deps());

      expect(out.progress.pivots.map((p) => p.accessKeyId)).toEqual(minted.slice(0, 10));
      expect(out.progress.pivotsTruncated).toBe(true);
      expect(sinks.get(LEAKED_KEY)?.all().map(eventIdOf)).toHaveLength(12);
    });

    it('is not truncated at exactly 10 pivots', async () => {
      const minted = Array.from({ length: 10 }, (_, i) => `ASIAPIVOT${String(i).padStart(11, '0')}`);
      trail.add(
        LEAKED_KEY,
        minted.map((key) => stsMint('GetSessionToken', { by: LEAKED_KEY, minted: key })),
      );

      const out = await collectRegion(task([LEAKED_KEY]), deps());

      expect(out.progress.pivots).toHaveLength(10);
      expect(out.progress.pivotsTruncated).toBeUndefined();
    });
  });
});
