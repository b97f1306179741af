import { gunzipSync } from 'node:zlib';
import { CloudTrailClient, InvalidNextTokenException, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  activityManifestKey,
  activityPartKey,
  evidencePrefix,
  S3PartSink,
} from '../../lambdas/collect/evidence';
import { type CollectOptions, type Cursor, collectPages } from '../../lambdas/collect/lookup';
import { backoffMs, TokenBucket } from '../../lambdas/collect/token-bucket';
import { AccessDeniedError, TransientAwsError } from '../../lambdas/shared/errors';
import {
  type CloudTrailStandIn,
  cloudTrailRecord,
  startCloudTrailStandIn,
} from '../../scripts/standins/cloudtrail';
import {
  activity,
  awsError,
  eventIdOf,
  FakeClock,
  FakeTrail,
  INCIDENT_ID,
  LEAKED_KEY,
  MemorySink,
  SECOND_KEY,
  throttling,
  WINDOW,
} from '../fixtures/collect/fake-cloudtrail';

const fresh = (): Cursor => ({ pages: 0, events: 0, done: false });

describe('TokenBucket', () => {
  it('paces takes at 2 per second once the burst is spent, in exact virtual time', async () => {
    // Arrange
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 1, clock.now, clock.sleep);
    const sentAt: number[] = [];

    // Act
    for (let i = 0; i < 6; i++) {
      await bucket.take();
      sentAt.push(clock.t);
    }

    // Assert
    expect(sentAt).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(clock.sleeps).toEqual([500, 500, 500, 500, 500]);
  });

  it('lets a burst through at once, then paces', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 2, clock.now, clock.sleep);
    const sentAt: number[] = [];

    for (let i = 0; i < 4; i++) {
      await bucket.take();
      sentAt.push(clock.t);
    }

    expect(sentAt).toEqual([0, 0, 500, 1000]);
  });

  it('refills while idle, but never beyond its burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 2, clock.now, clock.sleep);
    await bucket.take();
    await bucket.take();
    clock.t += 60_000;
    const sentAt: number[] = [];

    for (let i = 0; i < 3; i++) {
      await bucket.take();
      sentAt.push(clock.t);
    }

    expect(sentAt).toEqual([60_000, 60_000, 60_500]);
  });

  it('after drain() the next take waits a full interval, even with tokens to spare', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 2, clock.now, clock.sleep);
    await bucket.take();

    bucket.drain();
    await bucket.take();

    expect(clock.t).toBe(500);
    expect(clock.sleeps).toEqual([500]);
  });

  it('drain() keeps the time already waited towards the next token', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 1, clock.now, clock.sleep);
    await bucket.take();
    bucket.drain();
    clock.t += 300;

    await bucket.take();

    expect(clock.t).toBe(500);
  });
});

describe('backoffMs', () => {
  it('is full jitter: 0 with the lowest draw', () => {
    expect([0, 1, 5, 10].map((a) => backoffMs(a, 250, 8_000, () => 0))).toEqual([0, 0, 0, 0]);
  });

  it('stays below min(cap, base * 2^attempt) with the highest draw', () => {
    const highest = () => 0.999_999;

    const delays = [0, 1, 2, 3, 4, 5, 6, 12].map((a) => backoffMs(a, 250, 8_000, highest));

    expect(delays).toEqual([249, 499, 999, 1999, 3999, 7999, 7999, 7999]);
  });

  it('grows exponentially in the middle of the range and honours base and cap', () => {
    const half = () => 0.5;
    expect([0, 1, 2, 3].map((a) => backoffMs(a, 100, 10_000, half))).toEqual([50, 100, 200, 400]);
    expect(backoffMs(20, 100, 1_000, half)).toBe(500);
  });

  it('draws real jitter within bounds by default', () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      for (let i = 0; i < 50; i++) {
        const delay = backoffMs(attempt);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.min(8_000, 250 * 2 ** attempt));
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });
});

describe('evidence layout and S3PartSink', () => {
  const s3 = new S3Client({ region: 'us-east-1' });
  const s3Mock = mockClient(s3);
  beforeEach(() => s3Mock.reset());

  it('names parts per incident, key and region, zero-padded so they sort', () => {
    expect(evidencePrefix(INCIDENT_ID)).toBe(`incidents/${INCIDENT_ID}`);
    expect(activityPartKey(INCIDENT_ID, LEAKED_KEY, 'eu-west-1', 2)).toBe(
      `incidents/${INCIDENT_ID}/activity/${LEAKED_KEY}/eu-west-1/part-00002.jsonl.gz`,
    );
    expect(activityPartKey(INCIDENT_ID, LEAKED_KEY, 'eu-west-1', 12345)).toMatch(/part-12345\.jsonl\.gz$/);
    expect(activityManifestKey(INCIDENT_ID)).toBe(`incidents/${INCIDENT_ID}/activity/manifest.json`);
  });

  it('writes one gzipped JSON-lines object per page, one record per line', async () => {
    // Arrange
    s3Mock.on(PutObjectCommand).resolves({});
    const sink = new S3PartSink(s3, 'evidence-bucket', (part) =>
      activityPartKey(INCIDENT_ID, LEAKED_KEY, 'eu-west-1', part),
    );
    const records = activity(LEAKED_KEY, 3);

    // Act
    await sink.write(7, records);

    // Assert
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const input = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(input).toMatchObject({
      Bucket: 'evidence-bucket',
      Key: activityPartKey(INCIDENT_ID, LEAKED_KEY, 'eu-west-1', 7),
      ContentType: 'application/x-ndjson',
    });
    const text = gunzipSync(input.Body as Buffer).toString('utf8');
    expect(text).toBe(`${records.join('\n')}\n`);
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).eventID),
    ).toEqual(records.map(eventIdOf));
  });

  it('turns S3 refusals into AccessDeniedError and throttling into TransientAwsError', async () => {
    const sink = new S3PartSink(s3, 'evidence-bucket', (part) => `p/${part}`);

    s3Mock
      .on(PutObjectCommand)
      .rejectsOnce(awsError('AccessDenied', 403))
      .rejectsOnce(awsError('SlowDown', 503));

    await expect(sink.write(0, ['{}'])).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(sink.write(0, ['{}'])).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('collectPages against a fake LookupEvents', () => {
  const client = new CloudTrailClient({ region: 'eu-west-1' });
  const cloudTrail = mockClient(client);
  let clock: FakeClock;
  let trail: FakeTrail;
  let sink: MemorySink;
  /** Backoff sleeps of collectPages, apart from the bucket's own waits. */
  let backoffs: number[];

  beforeEach(() => {
    cloudTrail.reset();
    clock = new FakeClock();
    trail = new FakeTrail(clock);
    sink = new MemorySink();
    backoffs = [];
    cloudTrail.on(LookupEventsCommand).callsFake(trail.lookup);
  });
  afterEach(() => jest.restoreAllMocks());

  const options = (overrides: Partial<CollectOptions> = {}): CollectOptions => ({
    client,
    bucket: new TokenBucket(2, 1, clock.now, clock.sleep),
    accessKeyId: LEAKED_KEY,
    startTime: new Date(WINDOW.start),
    endTime: new Date(WINDOW.end),
    cursor: fresh(),
    sink,
    deadline: Number.POSITIVE_INFINITY,
    clock: clock.now,
    sleep: async (ms) => {
      backoffs.push(ms);
      clock.t += ms;
    },
    ...overrides,
  });

  it('reads 120 events as 3 pages, writes parts 0..2 in order and finishes the cursor', async () => {
    // Arrange
    const records = activity(LEAKED_KEY, 120);
    trail.add(LEAKED_KEY, records).add(SECOND_KEY, activity(SECOND_KEY, 7));

    // Act
    const cursor = await collectPages(options());

    // Assert
    expect(cursor).toEqual({ pages: 3, events: 120, done: true, nextToken: undefined });
    expect(sink.writes).toEqual([
      { part: 0, records: 50 },
      { part: 1, records: 50 },
      { part: 2, records: 20 },
    ]);
    expect(sink.all()).toEqual(records);
    expect(trail.calls.map((c) => c.nextToken)).toEqual([
      undefined,
      `${LEAKED_KEY}|50|0`,
      `${LEAKED_KEY}|100|0`,
    ]);
    expect(trail.calls.map((c) => c.at)).toEqual([0, 500, 1000]);
    expect(backoffs).toEqual([]);
  });

  it('asks by AccessKeyId over the whole window, 50 per page', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 1));

    await collectPages(options());

    expect(cloudTrail).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: LEAKED_KEY }],
      StartTime: new Date(WINDOW.start),
      EndTime: new Date(WINDOW.end),
      MaxResults: 50,
    });
  });

  it('finishes with no part written for a key without events', async () => {
    const cursor = await collectPages(options());

    expect(cursor).toEqual({ pages: 1, events: 0, done: true, nextToken: undefined });
    expect(sink.writes).toEqual([]);
  });

  it('keeps going through empty pages that still carry a NextToken', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 60)).withEmptyFirstPages(2);

    const cursor = await collectPages(options());

    expect(cursor).toMatchObject({ pages: 4, events: 60, done: true });
    expect(sink.writes).toEqual([
      { part: 2, records: 50 },
      { part: 3, records: 10 },
    ]);
  });

  it('skips events without a CloudTrailEvent body', async () => {
    const records = activity(LEAKED_KEY, 2);
    cloudTrail.on(LookupEventsCommand).resolves({
      Events: [
        { EventId: 'a', CloudTrailEvent: records[0] },
        { EventId: 'b' },
        { EventId: 'c', CloudTrailEvent: '' },
      ],
    });

    const cursor = await collectPages(options());

    expect(cursor).toMatchObject({ pages: 1, events: 1, done: true });
    expect(sink.parts.get(0)).toEqual([records[0]]);
  });

  it('stops at the deadline and a second invocation continues at part k with the same NextToken', async () => {
    // Arrange: the deadline is checked before the bucket's wait: at t = 0, 0, then 500, so two pages.
    const records = activity(LEAKED_KEY, 120);
    trail.add(LEAKED_KEY, records);

    // Act
    const first = await collectPages(options({ deadline: 500 }));
    const callsBefore = trail.calls.length;
    const second = await collectPages(options({ cursor: first, deadline: clock.t + 60_000 }));

    // Assert
    expect(first).toEqual({ pages: 2, events: 100, done: false, nextToken: `${LEAKED_KEY}|100|0` });
    expect(trail.calls.slice(callsBefore).map((c) => c.nextToken)).toEqual([first.nextToken]);
    expect(second).toEqual({ pages: 3, events: 120, done: true, nextToken: undefined });
    expect(sink.writes.map((w) => w.part)).toEqual([0, 1, 2]);
    const ids = sink.all().map(eventIdOf);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(records.map(eventIdOf));
  });

  it('reads nothing when called after the deadline, and returns the cursor unchanged', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 10));
    clock.t = 1_000;
    const cursor: Cursor = { pages: 4, events: 200, done: false, nextToken: 'kept' };

    const out = await collectPages(options({ cursor, deadline: 1_000 }));

    expect(out).toEqual(cursor);
    expect(trail.calls).toEqual([]);
  });

  it('does not change the cursor it was given', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 10));
    const cursor = fresh();

    await collectPages(options({ cursor }));

    expect(cursor).toEqual(fresh());
  });

  it('a retry of an invocation that died after writing part k rewrites part k, and loses no page', async () => {
    // Arrange: the invocation dies after storing part 1, before its cursor moves past it.
    const records = activity(LEAKED_KEY, 120);
    trail.add(LEAKED_KEY, records).latencyMs = 100;
    const start = await collectPages(options({ deadline: 100 }));
    expect(start).toMatchObject({ pages: 1, done: false });
    const dies = collectPages(
      options({
        cursor: start,
        onPage: () => {
          throw new Error('Task timed out after 900.00 seconds');
        },
      }),
    );
    await expect(dies).rejects.toThrow('Task timed out');
    const part1 = sink.parts.get(1);

    // Act: the workflow retries with the cursor it still holds.
    const retried = await collectPages(options({ cursor: start }));

    // Assert
    expect(sink.writes.map((w) => w.part)).toEqual([0, 1, 1, 2]);
    expect(sink.parts.get(1)).toEqual(part1);
    expect(retried).toEqual({ pages: 3, events: 120, done: true, nextToken: undefined });
    expect(sink.all()).toEqual(records);
  });

  it('retries ThrottlingException: drains the bucket, backs off with jitter, then reads the page', async () => {
    // Arrange
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 10)).failNext(throttling(), throttling());
    const bucket = new TokenBucket(2, 1, clock.now, clock.sleep);
    const drain = jest.spyOn(bucket, 'drain');

    // Act
    const cursor = await collectPages(options({ bucket }));

    // Assert
    expect(cursor).toMatchObject({ pages: 1, events: 10, done: true });
    expect(drain).toHaveBeenCalledTimes(2);
    expect(backoffs).toEqual([125, 250]);
    // After a throttle the bucket starts empty: every retry is at least 500 ms after the last request.
    expect(trail.calls.map((c) => c.at)).toEqual([0, 500, 1000]);
    expect(sink.writes).toEqual([{ part: 0, records: 10 }]);
  });

  it('keeps each backoff within its full-jitter bound', async () => {
    trail
      .add(LEAKED_KEY, activity(LEAKED_KEY, 1))
      .failNext(throttling(), throttling(), throttling(), throttling(), throttling());

    await collectPages(options());

    expect(backoffs).toHaveLength(5);
    backoffs.forEach((ms, attempt) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(250 * 2 ** attempt);
    });
  });

  it('gives up with TransientAwsError after maxAttempts throttles, naming the page to retry from', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 120)).failAlways(throttling());
    const cursor: Cursor = { pages: 2, events: 100, done: false, nextToken: `${LEAKED_KEY}|100|0` };

    const result = collectPages(options({ cursor, maxAttempts: 4 }));

    await expect(result).rejects.toBeInstanceOf(TransientAwsError);
    await expect(result).rejects.toThrow(/after 4 attempts.*from page 2/);
    expect(trail.calls).toHaveLength(4);
    expect(backoffs).toHaveLength(3);
    expect(sink.writes).toEqual([]);
  });

  it('retries server faults without draining the bucket', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 3)).failNext(awsError('InternalFailure', 500));
    const bucket = new TokenBucket(2, 1, clock.now, clock.sleep);
    const drain = jest.spyOn(bucket, 'drain');

    const cursor = await collectPages(options({ bucket }));

    expect(cursor).toMatchObject({ done: true, events: 3 });
    expect(drain).not.toHaveBeenCalled();
    expect(trail.calls).toHaveLength(2);
  });

  it.each([
    ['OptInRequired', 403],
    ['AccessDeniedException', 400],
    ['UnrecognizedClientException', 400],
    ['InvalidClientTokenId', 403],
  ])('a region answering %s is done with that error, not failed', async (name, status) => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 10)).failAlways(awsError(name, status));

    const cursor = await collectPages(options());

    expect(cursor.done).toBe(true);
    expect(cursor.error).toContain(name);
    expect(cursor).toMatchObject({ pages: 0, events: 0 });
    expect(trail.calls).toHaveLength(1);
    expect(sink.writes).toEqual([]);
  });

  it('keeps the pages already read when the region becomes unreadable mid-way', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 120)).latencyMs = 100;
    const first = await collectPages(options({ deadline: 100 }));
    trail.failAlways(awsError('AccessDeniedException'));

    const cursor = await collectPages(options({ cursor: first }));

    expect(cursor).toMatchObject({ pages: 1, events: 50, done: true });
    expect(cursor.error).toMatch(/^AccessDeniedException: /);
    expect(sink.writes).toEqual([{ part: 0, records: 50 }]);
  });

  it('rethrows an unexpected error at once, without retrying', async () => {
    const error = new InvalidNextTokenException({ message: 'Invalid NextToken.', $metadata: {} });
    trail.failNext(error);

    await expect(collectPages(options({ cursor: { ...fresh(), nextToken: 'stale' } }))).rejects.toBe(error);
    expect(trail.calls).toHaveLength(1);
    expect(backoffs).toEqual([]);
  });

  it('propagates a sink failure without moving the cursor past the page', async () => {
    trail.add(LEAKED_KEY, activity(LEAKED_KEY, 60));
    const failing = { write: jest.fn().mockRejectedValue(new TransientAwsError('s3 down')) };

    await expect(collectPages(options({ sink: failing }))).rejects.toBeInstanceOf(TransientAwsError);
    expect(failing.write).toHaveBeenCalledWith(0, expect.any(Array));
  });
});

describe('collectPages against the CloudTrail stand-in', () => {
  let standIn: CloudTrailStandIn;
  let client: CloudTrailClient;
  let clock: FakeClock;
  let backoffs: number[];
  const region = 'eu-west-1';
  /** Whole seconds in the recent past, so the stand-in's 90-day window and delivery delay allow them. */
  const newest = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const window = { start: new Date(newest - 86_400_000), end: new Date(newest + 60_000) };
  const records = (key: string, n: number, where = region) =>
    Array.from({ length: n }, (_, i) =>
      cloudTrailRecord({
        accessKeyId: key,
        awsRegion: where,
        eventName: 'DescribeInstances',
        eventID: `${key}-${where}-${String(i).padStart(4, '0')}`,
        eventTime: new Date(newest - i * 1000),
      }),
    );

  beforeAll(async () => {
    // A generous rate: the collector's own bucket (virtual time) does the pacing; throttles are injected.
    standIn = await startCloudTrailStandIn({ ratePerSecond: 1000, burst: 1000 });
    client = new CloudTrailClient({
      region,
      endpoint: standIn.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await standIn.stop();
  });
  beforeEach(() => {
    standIn.reset();
    clock = new FakeClock();
    backoffs = [];
  });

  const options = (sink: MemorySink, overrides: Partial<CollectOptions> = {}): CollectOptions => ({
    client,
    bucket: new TokenBucket(2, 1, clock.now, clock.sleep),
    accessKeyId: LEAKED_KEY,
    startTime: window.start,
    endTime: window.end,
    cursor: fresh(),
    sink,
    deadline: Number.POSITIVE_INFINITY,
    clock: clock.now,
    sleep: async (ms) => {
      backoffs.push(ms);
      clock.t += ms;
    },
    ...overrides,
  });

  it('pages through 120 events despite two throttles, every event stored once, newest first', async () => {
    // Arrange
    const mine = records(LEAKED_KEY, 120);
    standIn.addRecords([...mine, ...records(SECOND_KEY, 30), ...records(LEAKED_KEY, 5, 'us-east-1')]);
    standIn.injectThrottles(region, 2);
    const sink = new MemorySink();

    // Act
    const cursor = await collectPages(options(sink));

    // Assert
    expect(cursor).toEqual({ pages: 3, events: 120, done: true, nextToken: undefined });
    expect(sink.writes).toEqual([
      { part: 0, records: 50 },
      { part: 1, records: 50 },
      { part: 2, records: 20 },
    ]);
    expect(sink.all().map(eventIdOf)).toEqual(mine.map((r) => r.eventID));
    expect(standIn.throttled(region)).toBe(2);
    expect(standIn.requests(region)).toBe(5);
    expect(standIn.servedPages(region)).toBe(3);
    expect(standIn.requests('us-east-1')).toBe(0);
    expect(backoffs).toHaveLength(2);
    for (const [attempt, ms] of backoffs.entries()) expect(ms).toBeLessThan(250 * 2 ** attempt);
  });

  it('resumes with the NextToken it was issued, across invocations, without losing or repeating a page', async () => {
    const mine = records(LEAKED_KEY, 120);
    standIn.addRecords(mine);
    const sink = new MemorySink();

    // Each page takes 100 ms to handle, so a deadline 100 ms away lets exactly one page in.
    const onPage = () => {
      clock.t += 100;
    };
    let cursor = await collectPages(options(sink, { deadline: 100, onPage }));
    const invocations = [cursor];
    while (!cursor.done) {
      cursor = await collectPages(options(sink, { cursor, deadline: clock.t + 100, onPage }));
      invocations.push(cursor);
    }

    expect(invocations.map((c) => c.pages)).toEqual([1, 2, 3]);
    expect(sink.writes.map((w) => w.part)).toEqual([0, 1, 2]);
    const ids = sink.all().map(eventIdOf);
    expect(ids).toEqual(mine.map((r) => r.eventID));
    expect(standIn.servedPages(region)).toBe(3);
  });

  it('records a region that is not enabled as done with its reason', async () => {
    standIn.addRecords(records(LEAKED_KEY, 3));
    standIn.failRegion(region, {
      code: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });

    const cursor = await collectPages(options(new MemorySink()));

    expect(cursor).toMatchObject({ done: true, pages: 0, events: 0 });
    expect(cursor.error).toBe(
      'UnrecognizedClientException: The security token included in the request is invalid.',
    );
  });
});
