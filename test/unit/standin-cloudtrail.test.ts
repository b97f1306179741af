import {
  CloudTrailClient,
  type CloudTrailClientConfig,
  DescribeTrailsCommand,
  type Event,
  InvalidEventCategoryException,
  InvalidLookupAttributesException,
  InvalidMaxResultsException,
  InvalidNextTokenException,
  InvalidTimeRangeException,
  type LookupAttribute,
  LookupEventsCommand,
  type LookupEventsCommandInput,
  paginateLookupEvents,
  ThrottlingException,
} from '@aws-sdk/client-cloudtrail';
import {
  type CloudTrailStandIn,
  cloudTrailRecord,
  LOOKUP_EVENTS_TARGET,
  startCloudTrailStandIn,
} from '../../scripts/standins/cloudtrail';

const KEY = 'AKIAEXAMPLEEXAMPLE12';
const OTHER_KEY = 'AKIAOTHEROTHEROTHER9';
const MINUTE = 60_000;
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
/** Whole seconds, as CloudTrail records them, a little in the past so every record is already visible. */
const BASE = Math.floor((Date.now() - 60 * MINUTE) / 1000) * 1000;
const byKey = (key: string): LookupAttribute[] => [{ AttributeKey: 'AccessKeyId', AttributeValue: key }];

/** `n` events of `key` in `region`, one minute apart, the newest at BASE. */
function burst(n: number, key: string, region: string) {
  return Array.from({ length: n }, (_, i) =>
    cloudTrailRecord({
      accessKeyId: key,
      awsRegion: region,
      eventName: i % 2 ? 'RunInstances' : 'DescribeInstances',
      eventTime: new Date(BASE - i * MINUTE),
    }),
  );
}

async function lookupAll(client: CloudTrailClient, input: LookupEventsCommandInput) {
  const pages: Event[][] = [];
  for await (const page of paginateLookupEvents({ client }, input)) pages.push(page.Events ?? []);
  return pages;
}

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('CloudTrail LookupEvents stand-in', () => {
  let trail: CloudTrailStandIn;
  const clients: CloudTrailClient[] = [];
  const client = (region: string, config: Partial<CloudTrailClientConfig> = {}) => {
    const c = new CloudTrailClient({
      endpoint: trail.endpoint,
      region,
      credentials,
      maxAttempts: 1,
      ...config,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    // Functional tests are not about the rate limit: give them room.
    trail = await startCloudTrailStandIn({ ratePerSecond: 1000, burst: 1000 });
  });
  beforeEach(() => trail.reset());
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await trail.stop();
  });

  it('pages 120 events of one key as 50/50/20, newest first, without duplicates', async () => {
    trail.addRecords([...burst(120, KEY, 'eu-west-1'), ...burst(30, OTHER_KEY, 'eu-west-1')]);
    trail.addRecords(burst(10, KEY, 'us-west-2'));

    const pages = await lookupAll(client('eu-west-1'), { LookupAttributes: byKey(KEY) });

    expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
    const events = pages.flat();
    expect(new Set(events.map((e) => e.EventId)).size).toBe(120);
    const times = events.map((e) => e.EventTime?.getTime() ?? 0);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(times[0]).toBe(BASE);
    expect(events.every((e) => e.AccessKeyId === KEY)).toBe(true);
    expect(trail.servedPages('eu-west-1')).toBe(3);
    expect(trail.requests()).toBe(3);
  });

  it('returns each event in the documented shape, with the record as CloudTrailEvent', async () => {
    const record = cloudTrailRecord({
      accessKeyId: KEY,
      userName: 'ci-deployer',
      awsRegion: 'eu-west-1',
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      eventTime: new Date(BASE),
      resources: [{ ARN: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc', type: 'AWS::EC2::Instance' }],
    });
    trail.addRecords([record]);

    const { Events } = await client('eu-west-1').send(new LookupEventsCommand({}));

    expect(Events).toEqual([
      {
        EventId: record.eventID,
        EventName: 'RunInstances',
        ReadOnly: 'false',
        AccessKeyId: KEY,
        EventTime: new Date(BASE),
        EventSource: 'ec2.amazonaws.com',
        Username: 'ci-deployer',
        Resources: [
          {
            ResourceType: 'AWS::EC2::Instance',
            ResourceName: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc',
          },
        ],
        CloudTrailEvent: JSON.stringify(record),
      },
    ]);
    expect(JSON.parse(Events?.[0]?.CloudTrailEvent ?? '{}')).toMatchObject({
      eventVersion: '1.09',
      eventType: 'AwsApiCall',
      userIdentity: { type: 'IAMUser', accessKeyId: KEY, userName: 'ci-deployer' },
    });
  });

  it('filters by key and by an inclusive time window', async () => {
    trail.addRecords([...burst(20, KEY, 'eu-west-1'), ...burst(20, OTHER_KEY, 'eu-west-1')]);

    const pages = await lookupAll(client('eu-west-1'), {
      LookupAttributes: byKey(KEY),
      StartTime: new Date(BASE - 9 * MINUTE),
      EndTime: new Date(BASE - 5 * MINUTE),
    });

    const events = pages.flat();
    expect(events.map((e) => e.EventTime?.getTime())).toEqual([5, 6, 7, 8, 9].map((i) => BASE - i * MINUTE));
    expect(events.every((e) => e.AccessKeyId === KEY)).toBe(true);
  });

  it('filters by the other lookup attributes', async () => {
    const assumed = cloudTrailRecord({
      awsRegion: 'eu-west-1',
      eventName: 'GetCallerIdentity',
      eventSource: 'sts.amazonaws.com',
      userIdentity: {
        type: 'AssumedRole',
        accessKeyId: 'ASIAEXAMPLEEXAMPLE99',
        arn: 'arn:aws:sts::123456789012:assumed-role/Deploy/attacker-session',
        userName: undefined,
      },
      eventTime: new Date(BASE),
    });
    const root = cloudTrailRecord({
      awsRegion: 'eu-west-1',
      eventName: 'CreateKeyPair',
      userIdentity: { type: 'Root', arn: 'arn:aws:iam::123456789012:root', userName: undefined },
      eventTime: new Date(BASE - MINUTE),
    });
    trail.addRecords([assumed, root, ...burst(3, KEY, 'eu-west-1')]);
    const ids = async (AttributeKey: LookupAttribute['AttributeKey'], AttributeValue: string) =>
      (
        await client('eu-west-1').send(
          new LookupEventsCommand({ LookupAttributes: [{ AttributeKey, AttributeValue }] }),
        )
      ).Events?.map((e) => e.EventId);

    // "A user name or role name of the requester": the session name of an assumed role, root for root.
    expect(await ids('Username', 'attacker-session')).toEqual([assumed.eventID]);
    expect(await ids('Username', 'root')).toEqual([root.eventID]);
    expect(await ids('EventName', 'CreateKeyPair')).toEqual([root.eventID]);
    expect(await ids('EventSource', 'sts.amazonaws.com')).toEqual([assumed.eventID]);
    expect(await ids('EventId', root.eventID)).toEqual([root.eventID]);
    expect(await ids('ReadOnly', 'false')).toHaveLength(2); // CreateKeyPair and one RunInstances
    expect(await ids('AccessKeyId', 'ASIAEXAMPLEEXAMPLE99')).toEqual([assumed.eventID]);
  });

  it('serves global-service events only in us-east-1, regional STS calls in their Region', async () => {
    const createUser = cloudTrailRecord({
      accessKeyId: KEY,
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
    });
    const regionalSts = cloudTrailRecord({
      accessKeyId: KEY,
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetCallerIdentity',
      awsRegion: 'eu-west-1',
    });
    trail.addRecords([createUser, regionalSts]);

    const inRegion = async (region: string) =>
      (await client(region).send(new LookupEventsCommand({ LookupAttributes: byKey(KEY) }))).Events?.map(
        (e) => e.EventId,
      );
    expect(createUser.awsRegion).toBe('us-east-1');
    expect(await inRegion('us-east-1')).toEqual([createUser.eventID]);
    expect(await inRegion('eu-west-1')).toEqual([regionalSts.eventID]);
    expect(await inRegion('ap-southeast-2')).toEqual([]);
    // CloudTrail always records IAM as us-east-1: such a record could not come from AWS.
    expect(() =>
      trail.addRecords([cloudTrailRecord({ eventSource: 'iam.amazonaws.com', awsRegion: 'eu-west-1' })]),
    ).toThrow(/always recorded in us-east-1/);
  });

  it('keeps only the last 90 days and refuses duplicate event IDs', async () => {
    const old = cloudTrailRecord({
      accessKeyId: KEY,
      eventTime: new Date(Date.now() - 91 * 24 * 60 * MINUTE),
    });
    const recent = cloudTrailRecord({
      accessKeyId: KEY,
      eventTime: new Date(Date.now() - 89 * 24 * 60 * MINUTE),
    });
    trail.addRecords([old, recent]);

    const { Events } = await client('us-east-1').send(
      new LookupEventsCommand({ LookupAttributes: byKey(KEY) }),
    );

    expect(Events?.map((e) => e.EventId)).toEqual([recent.eventID]);
    expect(() => trail.addRecords([recent])).toThrow(/already added/);
  });

  it('neither repeats nor skips an event when records arrive between pages', async () => {
    trail.addRecords(burst(120, KEY, 'eu-west-1'));
    const ct = client('eu-west-1');
    const seen: string[] = [];
    let NextToken: string | undefined;
    let lateNewest: string | undefined;
    let lateOlder: string | undefined;
    do {
      const page = await ct.send(new LookupEventsCommand({ LookupAttributes: byKey(KEY), NextToken }));
      seen.push(...(page.Events ?? []).map((e) => e.EventId ?? ''));
      NextToken = page.NextToken;
      if (!lateNewest) {
        // One record newer than everything (already behind the cursor), one in the part not read yet.
        const [newest, older] = [BASE + MINUTE, BASE - 100.5 * MINUTE].map((t) =>
          cloudTrailRecord({ accessKeyId: KEY, awsRegion: 'eu-west-1', eventTime: new Date(t) }),
        );
        trail.addRecords([newest, older]);
        [lateNewest, lateOlder] = [newest.eventID, older.eventID];
      }
    } while (NextToken);

    expect(seen).toHaveLength(121);
    expect(new Set(seen).size).toBe(121);
    expect(seen).toContain(lateOlder);
    expect(seen).not.toContain(lateNewest);
  });

  describe('errors', () => {
    it('rejects a garbage NextToken and one issued for another query or Region', async () => {
      trail.addRecords([...burst(5, KEY, 'eu-west-1'), ...burst(5, KEY, 'us-east-1')]);
      const ct = client('eu-west-1');
      const first = await ct.send(new LookupEventsCommand({ LookupAttributes: byKey(KEY), MaxResults: 2 }));
      const token = first.NextToken;
      expect(token).toEqual(expect.any(String));

      for (const bad of [
        ct.send(new LookupEventsCommand({ LookupAttributes: byKey(KEY), NextToken: 'garbage' })),
        ct.send(new LookupEventsCommand({ LookupAttributes: byKey(KEY), NextToken: `${token}x` })),
        ct.send(new LookupEventsCommand({ LookupAttributes: byKey(OTHER_KEY), NextToken: token })),
        ct.send(new LookupEventsCommand({ NextToken: token })),
        client('us-east-1').send(new LookupEventsCommand({ LookupAttributes: byKey(KEY), NextToken: token })),
      ]) {
        expect(await rejection(bad)).toBeInstanceOf(InvalidNextTokenException);
      }
      // The page size is not part of the query: changing it keeps the position.
      const rest = await ct.send(new LookupEventsCommand({ LookupAttributes: byKey(KEY), NextToken: token }));
      expect(rest.Events).toHaveLength(3);
      expect(rest.NextToken).toBeUndefined();
    });

    it('validates lookup attributes, page size, time range and event category', async () => {
      const ct = client('eu-west-1');
      const lookup = (input: LookupEventsCommandInput) => rejection(ct.send(new LookupEventsCommand(input)));

      const two = await lookup({
        LookupAttributes: [...byKey(KEY), { AttributeKey: 'EventName', AttributeValue: 'RunInstances' }],
      });
      expect(two).toBeInstanceOf(InvalidLookupAttributesException);
      expect(two.$metadata?.httpStatusCode).toBe(400);
      expect(
        await lookup({
          LookupAttributes: [{ AttributeKey: 'SourceIp' as 'EventId', AttributeValue: '1.2.3.4' }],
        }),
      ).toBeInstanceOf(InvalidLookupAttributesException);
      expect(
        await lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: '' }] }),
      ).toBeInstanceOf(InvalidLookupAttributesException);
      // '_' counts twice towards the 2,000-character limit.
      expect(
        await lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: '_'.repeat(1001) }] }),
      ).toBeInstanceOf(InvalidLookupAttributesException);
      expect(await lookup({ MaxResults: 0 })).toBeInstanceOf(InvalidMaxResultsException);
      expect(await lookup({ MaxResults: 51 })).toBeInstanceOf(InvalidMaxResultsException);
      expect(await lookup({ StartTime: new Date(BASE), EndTime: new Date(BASE - 1000) })).toBeInstanceOf(
        InvalidTimeRangeException,
      );
      expect(await lookup({ EventCategory: 'management' as 'insight' })).toBeInstanceOf(
        InvalidEventCategoryException,
      );
      expect(await lookup({ EventCategory: 'insight', LookupAttributes: byKey(KEY) })).toBeInstanceOf(
        InvalidLookupAttributesException,
      );
      expect(trail.servedPages()).toBe(0);
    });

    it('has no Insights events to return', async () => {
      trail.addRecords(burst(3, KEY, 'eu-west-1'));
      const { Events } = await client('eu-west-1').send(
        new LookupEventsCommand({ EventCategory: 'insight' }),
      );
      expect(Events).toEqual([]);
    });

    it('fails a Region set to fail, and only that Region', async () => {
      trail.failRegion('ap-east-1', {
        code: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });

      const error = await rejection(client('ap-east-1').send(new LookupEventsCommand({})));
      expect(error.name).toBe('UnrecognizedClientException');
      expect(error.message).toBe('The security token included in the request is invalid.');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      await expect(client('eu-west-1').send(new LookupEventsCommand({}))).resolves.toBeDefined();

      trail.failRegion('ap-east-1', undefined);
      await expect(client('ap-east-1').send(new LookupEventsCommand({}))).resolves.toBeDefined();
      expect(trail.requests('ap-east-1')).toBe(2);
      expect(trail.servedPages('ap-east-1')).toBe(1);
    });

    it('answers other operations with UnknownOperationException and unsigned requests with an auth error', async () => {
      const unknown = await rejection(client('eu-west-1').send(new DescribeTrailsCommand({})));
      expect(unknown.name).toBe('UnknownOperationException');

      const response = await fetch(trail.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': LOOKUP_EVENTS_TARGET },
        body: '{}',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        __type: 'MissingAuthenticationTokenException',
        message: 'Missing Authentication Token',
      });
    });
  });

  describe('throttling', () => {
    it('answers ThrottlingException beyond 2 requests per second per Region', async () => {
      let clock = 1_000_000;
      const limited = await startCloudTrailStandIn({ now: () => clock });
      const ct = (region: string) =>
        new CloudTrailClient({ endpoint: limited.endpoint, region, credentials, maxAttempts: 1 });
      const [eu, us] = [ct('eu-west-1'), ct('us-east-1')];
      try {
        const send = () => eu.send(new LookupEventsCommand({}));

        await send();
        await send(); // the burst of 2
        const error = await rejection(send());
        expect(error).toBeInstanceOf(ThrottlingException);
        expect(error.message).toBe('Rate exceeded');
        expect(error.$metadata?.httpStatusCode).toBe(400);
        // Each Region has its own budget.
        await expect(us.send(new LookupEventsCommand({}))).resolves.toBeDefined();

        clock += 500; // one token back at 2 per second
        await send();
        await expect(send()).rejects.toBeInstanceOf(ThrottlingException);
        clock += 1000;
        await send();
        await send();

        expect(limited.requests('eu-west-1')).toBe(7);
        expect(limited.throttled('eu-west-1')).toBe(2);
        expect(limited.servedPages('eu-west-1')).toBe(5);
      } finally {
        eu.destroy();
        us.destroy();
        await limited.stop();
      }
    });

    it('lets the SDK retries get through at the documented rate', async () => {
      const limited = await startCloudTrailStandIn(); // 2 per second, burst 2, real clock
      limited.addRecords(burst(3, KEY, 'eu-west-1'));
      const ct = new CloudTrailClient({
        endpoint: limited.endpoint,
        region: 'eu-west-1',
        credentials,
        maxAttempts: 8,
      });
      try {
        const results = await Promise.all(
          Array.from({ length: 4 }, () => ct.send(new LookupEventsCommand({ LookupAttributes: byKey(KEY) }))),
        );

        expect(results.map((r) => r.Events?.length)).toEqual([3, 3, 3, 3]);
        expect(limited.throttled('eu-west-1')).toBeGreaterThanOrEqual(2);
        expect(limited.servedPages('eu-west-1')).toBe(4);
      } finally {
        ct.destroy();
        await limited.stop();
      }
    }, 10_000);

    it('throttles the next n requests of a Region when told to', async () => {
      trail.injectThrottles('eu-west-1', 2);
      const eu = client('eu-west-1');

      await expect(eu.send(new LookupEventsCommand({}))).rejects.toBeInstanceOf(ThrottlingException);
      await expect(client('us-east-1').send(new LookupEventsCommand({}))).resolves.toBeDefined();
      await expect(eu.send(new LookupEventsCommand({}))).rejects.toBeInstanceOf(ThrottlingException);
      await expect(eu.send(new LookupEventsCommand({}))).resolves.toBeDefined();
      expect(trail.throttled()).toBe(2);
      expect(trail.throttled('eu-west-1')).toBe(2);
    });
  });
});
