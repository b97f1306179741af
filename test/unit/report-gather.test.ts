import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Analyzer } from '../../lambdas/analyze/analyzer';
import type { CloudTrailRecord } from '../../lambdas/analyze/types';
import type { InventoryRegionOutput } from '../../lambdas/inventory/handler';
import { dataEventCoverage, dataEventsFrom } from '../../lambdas/inventory/readers/cloudtrail';
import type { InventoryItem, ReaderResult } from '../../lambdas/inventory/types';
import { textWithCard } from '../../lambdas/report/chatbot';
import {
  bundleManifestKey,
  consoleLinks,
  presignReport,
  writeBundleManifest,
} from '../../lambdas/report/evidence-bundle';
import {
  causeMessage,
  failedPart,
  gatherReportInput,
  inventoryCoverage,
  type ReportState,
  withConfirmation,
} from '../../lambdas/report/gather';
import { aContainedResult, anIntakeResult } from '../fixtures/incidents';

const BUCKET = 'evidence-bucket';
const NOW = new Date('2026-12-06T09:00:00Z');

function trail(name: string, details: Record<string, unknown>): InventoryItem {
  return {
    service: 'cloudtrail',
    type: 'guard-rail',
    id: name,
    region: 'us-east-1',
    createdByKey: 'unknown',
    cleanup: '# nothing to remove',
    consoleUrl: 'https://console.aws.amazon.com/cloudtrail/home',
    details: { kind: 'trail', ...details },
  } as InventoryItem;
}

function cloudtrailResult(region: string, items: InventoryItem[], complete = true): ReaderResult {
  return {
    service: 'cloudtrail',
    region,
    items,
    complete,
    apiCalls: 3,
    ...(complete ? {} : { error: 'denied' }),
  };
}

describe('causeMessage', () => {
  it("takes a Lambda error's message out of Step Functions' JSON cause", () => {
    expect(causeMessage('{"errorType":"Boom","errorMessage":"it broke"}')).toBe('it broke');
  });

  it('keeps a plain cause and an empty one as they are', () => {
    expect(causeMessage('States.Timeout after 300 s')).toBe('States.Timeout after 300 s');
    expect(causeMessage(undefined)).toBe('');
  });
});

describe('failedPart', () => {
  const error = { Error: 'Boom', Cause: '{"errorMessage":"it broke"}' };
  const intake = anIntakeResult();

  it('names the first part the state lacks, with the error', () => {
    expect(failedPart({ intake, error })).toEqual({
      part: 'Investigation plan (CloudTrail activity, analysis, inventory)',
      why: 'Boom: it broke',
    });
    expect(failedPart({ intake, error, plan: {} })?.part).toMatch(/^Investigation \(/);
    expect(failedPart({ intake, error, plan: {}, investigation: {} })?.part).toBe('Analysis');
    expect(failedPart({ intake, error, plan: {}, investigation: {}, analysis: {} })?.part).toBe(
      'Inventory attribution',
    );
  });

  it('is nothing when no step failed', () => {
    expect(failedPart({ intake })).toBeUndefined();
  });
});

describe('withConfirmation', () => {
  const undone = {
    accessKeyId: 'AKIAEXAMPLEEXAMPLE01',
    userName: 'ci-deployer',
    held: false,
    reapplied: [
      {
        action: 'iam:UpdateAccessKey',
        target: 'ci-deployer/AKIAEXAMPLEEXAMPLE01',
        at: '2026-12-06T09:01:00Z',
        ok: true,
      },
    ],
  };

  it('adds the re-applied actions to the key and a step to find who undid the containment', () => {
    // Arrange
    const contained = aContainedResult({ accessKeyId: undone.accessKeyId });

    // Act
    const [after] = withConfirmation([contained], { confirmations: [undone] });

    // Assert
    expect(after.actions.at(-1)).toEqual(undone.reapplied[0]);
    expect(after.keyStatusAfter).toBe(contained.keyStatusAfter);
    expect(after.manualSteps?.at(-1)).toMatch(
      /undone after it was applied; the responder re-applied it\. Find who/,
    );
  });

  it('leaves the key status unknown when the re-apply failed, and a held containment as it was', () => {
    // Arrange
    const contained = aContainedResult({ accessKeyId: undone.accessKeyId });
    const failed = { ...undone, reapplied: [{ ...undone.reapplied[0], ok: false, error: 'AccessDenied' }] };

    // Act
    const [after] = withConfirmation([contained], { confirmations: [failed] });
    const [held] = withConfirmation([contained], {
      confirmations: [{ ...undone, held: true, reapplied: [] }],
    });

    // Assert
    expect(after.keyStatusAfter).toBe('unknown');
    expect(after.manualSteps?.at(-1)).toContain('FAILED');
    expect(held).toBe(contained);
  });
});

describe('inventoryCoverage', () => {
  it('lists each service read per region, a failed region as one incomplete entry, skipped readers not at all', () => {
    // Arrange
    const regions: InventoryRegionOutput[] = [
      {
        region: 'us-east-1',
        rawKey: 'raw/us-east-1.json',
        items: 3,
        apiCalls: 9,
        services: [
          { service: 'ec2', complete: true, items: 3 },
          { service: 'ses', complete: false, items: 0, error: 'Throttling' },
          { service: 'lightsail', complete: true, items: 0, skipped: 'not offered here' },
        ],
      },
      { region: 'ap-east-1', rawKey: '', items: 0, apiCalls: 0, services: [], failure: 'States.Timeout' },
    ];

    // Act
    const coverage = inventoryCoverage(regions);

    // Assert
    expect(coverage).toEqual([
      { region: 'us-east-1', service: 'ec2', complete: true },
      { region: 'us-east-1', service: 'ses', complete: false, error: 'Throttling' },
      { region: 'ap-east-1', service: '*', complete: false, error: 'States.Timeout' },
    ]);
  });
});

describe('dataEventCoverage', () => {
  it('reads basic selectors: S3 object and Lambda function resources, unless write-only', () => {
    expect(
      dataEventCoverage(
        [
          {
            ReadWriteType: 'All',
            DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }],
          },
        ],
        undefined,
      ),
    ).toEqual({ s3: true, lambda: false });
    expect(
      dataEventCoverage(
        [
          {
            ReadWriteType: 'WriteOnly',
            DataResources: [{ Type: 'AWS::Lambda::Function', Values: ['arn:aws:lambda'] }],
          },
        ],
        undefined,
      ),
    ).toEqual({ s3: false, lambda: false });
  });

  it('reads advanced selectors, which replace the basic ones', () => {
    const advanced = [
      {
        Name: 'lambda invokes',
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: ['AWS::Lambda::Function'] },
        ],
      },
      {
        Name: 's3 writes only',
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
          { Field: 'readOnly', Equals: ['false'] },
        ],
      },
    ];
    expect(dataEventCoverage([{ DataResources: [{ Type: 'AWS::S3::Object' }] }], advanced)).toEqual({
      s3: false,
      lambda: true,
    });
  });
});

describe('dataEventsFrom', () => {
  it('is true when a logging trail records them, whatever else could not be read', () => {
    const results = [
      cloudtrailResult('us-east-1', [
        trail('org', { isLogging: true, dataEvents: { s3: true, lambda: false } }),
      ]),
    ];
    expect(dataEventsFrom(results, 1, 3)).toEqual({ s3: true, lambda: 'unknown' });
  });

  it('is false only when every region and every trail was read', () => {
    const results = ['us-east-1', 'eu-west-1'].map((r) =>
      cloudtrailResult(r, [trail(`t-${r}`, { isLogging: true, dataEvents: { s3: false, lambda: false } })]),
    );
    expect(dataEventsFrom(results, 2, 2)).toEqual({ s3: false, lambda: false });
    expect(dataEventsFrom(results, 2, 3)).toEqual({ s3: 'unknown', lambda: 'unknown' });
  });

  it('does not count a stopped trail, and says unknown when selectors could not be read', () => {
    const stopped = trail('stopped', { isLogging: false, dataEvents: { s3: true, lambda: true } });
    const unread = trail('unread', { isLogging: true });
    expect(dataEventsFrom([cloudtrailResult('us-east-1', [stopped])], 1, 1)).toEqual({
      s3: false,
      lambda: false,
    });
    expect(dataEventsFrom([cloudtrailResult('us-east-1', [unread])], 1, 1)).toEqual({
      s3: 'unknown',
      lambda: 'unknown',
    });
  });
});

describe('gatherReportInput', () => {
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const s3Mock = mockClient(s3);
  const objects: Record<string, unknown> = {};
  const links = { reportUrl: 'https://example.com/report' };

  beforeEach(() => {
    s3Mock.reset();
    for (const key of Object.keys(objects)) delete objects[key];
    s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      if (!(input.Key in objects)) {
        throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
      }
      return { Body: { transformToString: async () => JSON.stringify(objects[input.Key]) } };
    });
  });

  function fullState(): ReportState {
    objects['m.json'] = { incidentId: 'i', window: { start: 'a', end: 'b' }, regions: [], keys: [] };
    objects['f.json'] = [];
    objects['s.json'] = { findings: { total: 0 } };
    objects['t.json'] = {
      marks: [
        {
          eventId: 'e1',
          eventTime: '2026-12-06T08:00:00Z',
          region: 'us-east-1',
          category: 'reconnaissance',
          severity: 'info',
          failed: false,
          eventName: 'ListUsers',
        },
      ],
      omitted: 0,
    };
    objects['items.json'] = [];
    return {
      intake: anIntakeResult(),
      containment: [aContainedResult()],
      plan: { regions: ['us-east-1'] },
      investigation: {
        activity: { manifestKey: 'm.json' },
        inventory: [{ region: 'us-east-1', rawKey: 'raw.json', items: 0, apiCalls: 3, services: [] }],
      },
      analysis: { findingsKey: 'f.json', summaryKey: 's.json', timelineKey: 't.json' },
      inventory: { itemsKey: 'items.json', dataEvents: { s3: false, lambda: false } },
    };
  }

  it('reads every part the state points at, and misses nothing', async () => {
    // Act
    const { input, unreadable } = await gatherReportInput(fullState(), {
      s3,
      bucket: BUCKET,
      links,
      now: NOW,
    });

    // Assert
    expect(unreadable).toEqual([]);
    expect(input.missing).toEqual([]);
    expect(input.activity).toEqual(objects['m.json']);
    expect(input.analysis).toEqual({ findings: [], summary: objects['s.json'] });
    expect(input.timelineEvents).toHaveLength(1);
    expect(input.inventory).toEqual({ items: [], coverage: [] });
    expect(input.dataEvents).toEqual({ s3: false, lambda: false });
    expect(input.generatedAt).toBe(NOW.toISOString());
    expect(input.links).toBe(links);
  });

  it('reports an evidence object it cannot read as missing, with the reason, and renders the rest', async () => {
    // Arrange
    const state = fullState();
    delete objects['f.json'];

    // Act
    const { input, unreadable } = await gatherReportInput(state, { s3, bucket: BUCKET, links, now: NOW });

    // Assert
    expect(input.analysis).toBeUndefined();
    expect(input.missing).toEqual([
      { part: 'Analysis', why: expect.stringMatching(/^The findings could not be read: .*does not exist/) },
    ]);
    expect(unreadable).toHaveLength(1);
    expect(input.inventory).toBeDefined();
  });

  it('lets a throttled read fail the step, for the workflow to retry, rather than report it missing', async () => {
    // Arrange
    const state = fullState();
    s3Mock
      .on(GetObjectCommand)
      .rejects(Object.assign(new Error('Slow Down'), { name: 'SlowDown', $retryable: {} }));

    // Act
    const gathered = gatherReportInput(state, { s3, bucket: BUCKET, links, now: NOW });

    // Assert
    await expect(gathered).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('says which step failed and why, and that containment results are absent', async () => {
    // Arrange
    const state: ReportState = {
      ...fullState(),
      containment: undefined,
      analysis: { Error: 'AnalyzerCrashed', Cause: '{"errorMessage":"out of memory"}' },
    };

    // Act
    const { input } = await gatherReportInput(state, { s3, bucket: BUCKET, links, now: NOW });

    // Assert
    expect(input.missing).toEqual([
      { part: 'Containment results', why: expect.stringContaining('no result reached the report') },
      { part: 'Analysis', why: 'AnalyzerCrashed: out of memory' },
    ]);
    expect(input.containment).toEqual([]);
  });
});

describe('the evidence bundle', () => {
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials: {
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date(NOW.getTime() + 3600_000),
    },
  });
  const s3Mock = mockClient(s3);

  beforeEach(() => s3Mock.reset());

  it('links to the report and the evidence prefix in the S3 console, encoded', () => {
    const links = consoleLinks('my-bucket', 'eu-west-1', '20261206-abc');
    expect(links.reportUrl).toBe(
      'https://s3.console.aws.amazon.com/s3/object/my-bucket?region=eu-west-1&prefix=incidents%2F20261206-abc%2Freport%2Freport.html',
    );
    expect(links.evidenceConsoleUrl).toContain('prefix=incidents%2F20261206-abc%2F');
  });

  it("states the presigned link's real expiry: the signing session's end when that comes first", async () => {
    // Act
    const link = await presignReport(s3, 'my-bucket', 'incidents/x/report/report.html', 7 * 24 * 3600, NOW);

    // Assert
    expect(link.presignedExpiresAt).toBe('2026-12-06T10:00:00.000Z');
    const url = new URL(link.presignedUrl ?? '');
    expect(url.pathname).toBe('/incidents/x/report/report.html');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('604800');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('token');
  });

  it('lists every object of the incident across pages, without itself, and stores the list', async () => {
    // Arrange
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [
          { Key: 'incidents/x/report/report.html', Size: 10, ETag: '"9e107d9d372bb6826bd81d3542a419d6"' },
          { Key: bundleManifestKey('x'), Size: 5 },
        ],
        IsTruncated: true,
        NextContinuationToken: 'page2',
      })
      .resolvesOnce({
        Contents: [{ Key: 'incidents/x/activity/manifest.json', Size: 7 }],
        IsTruncated: false,
      });
    s3Mock.on(PutObjectCommand).resolves({});

    // Act
    const manifest = await writeBundleManifest(s3, 'my-bucket', 'x', NOW);

    // Assert
    expect(manifest.objects.map((o) => o.key)).toEqual([
      'incidents/x/activity/manifest.json',
      'incidents/x/report/report.html',
    ]);
    expect(manifest.totalBytes).toBe(17);
    expect(manifest.objects[1].etag).toBe('9e107d9d372bb6826bd81d3542a419d6');
    expect(s3Mock.commandCalls(ListObjectsV2Command)[1].args[0].input.ContinuationToken).toBe('page2');
    const put = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put.Key).toBe('incidents/x/manifest.json');
    expect(JSON.parse(String(put.Body)).objects).toHaveLength(2);
  });
});

describe('timeline marks of the analyzer', () => {
  const KEY = 'AKIAEXAMPLEKEY000001';
  function call(n: number, eventName: string, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
    return {
      eventTime: `2026-12-06T08:${String(n).padStart(2, '0')}:00Z`,
      eventSource: 'iam.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      eventID: `e${n}`,
      userIdentity: { type: 'IAMUser', accessKeyId: KEY, arn: 'arn:aws:iam::111122223333:user/dev' },
      ...extra,
    };
  }

  it('marks every call of the key: classified by its worst finding, else reconnaissance or other-change', () => {
    // Arrange
    const analyzer = new Analyzer({ keys: [KEY], timelineCap: 100 });

    // Act
    analyzer.add(call(3, 'CreateUser', { requestParameters: { userName: 'backdoor' } }));
    analyzer.add(call(1, 'ListUsers'));
    analyzer.add(call(2, 'TagUser', { errorCode: 'AccessDenied' }));
    const { timeline } = analyzer.result();

    // Assert
    expect(timeline?.omitted).toBe(0);
    expect(timeline?.marks.map((m) => [m.eventId, m.category, m.failed])).toEqual([
      ['e1', 'reconnaissance', false],
      ['e2', expect.any(String), true],
      ['e3', 'persistence', false],
    ]);
    expect(timeline?.marks[0].severity).toBe('info');
  });

  it('keeps the earliest and the latest calls past the cap, and counts the rest', () => {
    // Arrange
    const analyzer = new Analyzer({ keys: [KEY], timelineCap: 4 });
    const order = [7, 1, 20, 12, 3, 19, 2, 15, 8, 11, 4, 18, 5, 6, 9, 10, 13, 14, 16, 17];

    // Act
    for (const n of order) analyzer.add(call(n, 'ListUsers'));
    analyzer.add(call(30, 'ListUsers', { eventTime: 'not a time' }));
    const { timeline } = analyzer.result();

    // Assert
    expect(timeline?.marks.map((m) => m.eventId)).toEqual(['e1', 'e2', 'e19', 'e20']);
    expect(timeline?.omitted).toBe(16);
  });

  it('draws nothing unless asked', () => {
    const analyzer = new Analyzer({ keys: [KEY] });
    analyzer.add(call(1, 'ListUsers'));
    expect(analyzer.result().timeline).toBeUndefined();
  });
});

describe('textWithCard', () => {
  it('keeps an oversized alert under the 256 KB SNS limit, whole lines and a note where it was cut', () => {
    // Arrange
    const text = Array.from(
      { length: 6000 },
      (_, i) => `key AKIAEXAMPLE${String(i).padStart(8, '0')}: contained`,
    ).join('\n');

    // Act
    const message = textWithCard('[CONTAINED] 6000 keys', text, {
      id: 'inc-2',
      eventType: 'ExposedKeyContainment',
    });

    // Assert
    expect(Buffer.byteLength(message.Message, 'utf8')).toBeLessThan(256 * 1024);
    const email = (JSON.parse(message.Message) as { email: string }).email;
    expect(email.startsWith('key AKIAEXAMPLE00000000: contained\n')).toBe(true);
    expect(email).toMatch(/contained\n\.\.\. cut here to fit the message size limit/);
  });

  it('keeps the text for e-mail and queues and adds a Chatbot card that fits', () => {
    // Arrange
    const text = [
      'KEY AKIA... <contained> & alerted',
      ...Array.from({ length: 400 }, (_, i) => `line ${i}`),
    ].join('\n');

    // Act
    const message = textWithCard('[CONTAINED] Leaked key', text, {
      id: 'inc-1',
      eventType: 'ExposedKeyContainment',
    });

    // Assert
    const variants = JSON.parse(message.Message) as Record<string, string>;
    expect(message.MessageStructure).toBe('json');
    expect(variants.default).toBe(text);
    expect(variants.email).toBe(text);
    expect(variants.sqs).toBe(text);
    const card = JSON.parse(variants.https);
    expect(card).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown' },
    });
    expect(card.content.description.length).toBeLessThanOrEqual(3000);
    expect(card.content.description).toContain('&lt;contained&gt; &amp; alerted');
    expect(card.content.description).toMatch(/the rest is in the email_$/);
  });
});
