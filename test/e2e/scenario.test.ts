import {
  CloudTrailClient,
  CreateTrailCommand,
  GetTrailStatusCommand,
  type LookupAttribute,
  LookupEventsCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { pivotOf } from '../../lambdas/collect/pivots';
import { type MotoServer, startMoto } from '../../scripts/emulator/moto';
import { seedUserWithTwoKeys } from '../../scripts/local/seed';
import {
  DEFAULT_SCENARIO_FILE,
  loadScenario,
  runScenario,
  type ScenarioRun,
  scenarioDurationMs,
} from '../../scripts/scenario/scenario';
import {
  type CloudTrailRecord,
  type CloudTrailStandIn,
  startCloudTrailStandIn,
} from '../../scripts/standins/cloudtrail';
import { type LightsailStandIn, startLightsailStandIn } from '../../scripts/standins/lightsail';

const ACCOUNT = '123456789012';
const VICTIM = 'ci-deployer';
const TRAIL = 'management-events';
const admin = { accessKeyId: 'AKIAADMINADMINADMIN0', secretAccessKey: 'admin' };

let moto: MotoServer;
let cloudTrail: CloudTrailStandIn;
let lightsail: LightsailStandIn;
let leakedKey: string;
let run: ScenarioRun;
let runMs: number;
const clients: { destroy(): void }[] = [];

function client<T extends { destroy(): void }>(make: (endpoint: string) => T, endpoint = moto.endpoint): T {
  const c = make(endpoint);
  clients.push(c);
  return c;
}
const ec2 = (region: string) => client((endpoint) => new EC2Client({ region, endpoint, credentials: admin }));
const iam = () => client((endpoint) => new IAMClient({ region: 'us-east-1', endpoint, credentials: admin }));
const trailClient = (endpoint: string) =>
  client((e) => new CloudTrailClient({ region: 'us-east-1', endpoint: e, credentials: admin }), endpoint);

/** The event history of a Region, as the responder's collector reads it (LookupEvents on the stand-in). */
async function history(region: string, attribute?: LookupAttribute): Promise<CloudTrailRecord[]> {
  const lookup = client(
    (endpoint) => new CloudTrailClient({ region, endpoint, credentials: admin }),
    cloudTrail.endpoint,
  );
  const out: CloudTrailRecord[] = [];
  let NextToken: string | undefined;
  do {
    const page = await lookup.send(
      new LookupEventsCommand({ LookupAttributes: attribute ? [attribute] : undefined, NextToken }),
    );
    for (const e of page.Events ?? []) out.push(JSON.parse(e.CloudTrailEvent ?? '{}'));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

async function instances(region: string) {
  const out = await ec2(region).send(new DescribeInstancesCommand({}));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

beforeAll(async () => {
  [moto, cloudTrail, lightsail] = await Promise.all([
    // AdministratorAccess is an AWS managed policy: moto only knows those when asked to load them.
    startMoto({ env: { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } }),
    startCloudTrailStandIn(),
    startLightsailStandIn(),
  ]);
  const seeded = await seedUserWithTwoKeys(iam(), VICTIM);
  leakedKey = seeded.victimKey;
  // The account's trail, logging: the attacker will try to stop it.
  await client(
    (endpoint) => new S3Client({ region: 'us-east-1', endpoint, credentials: admin, forcePathStyle: true }),
  ).send(new CreateBucketCommand({ Bucket: 'org-trail-logs' }));
  const trails = trailClient(moto.endpoint);
  await trails.send(
    new CreateTrailCommand({ Name: TRAIL, S3BucketName: 'org-trail-logs', IsMultiRegionTrail: true }),
  );
  await trails.send(new StartLoggingCommand({ Name: TRAIL }));

  const scenario = loadScenario(DEFAULT_SCENARIO_FILE);
  const began = Date.now();
  run = await runScenario(scenario, {
    endpoint: moto.endpoint,
    cloudTrail,
    lightsail,
    accountId: ACCOUNT,
    leaked: { accessKeyId: leakedKey, secretAccessKey: 'leaked-secret', userName: VICTIM },
    // In the past, so that every record is already in the event history.
    start: new Date(Date.now() - scenarioDurationMs(scenario) - 60_000),
    strict: true,
  });
  runMs = Date.now() - began;
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await Promise.all([moto?.stop(), cloudTrail?.stop(), lightsail?.stop()]);
});

describe('the default scenario against moto and the stand-ins', () => {
  it('plays every step in a few seconds; only the StopLogging attempt fails', () => {
    expect(run.steps).toHaveLength(20);
    expect(run.steps.filter((s) => !s.ok).map((s) => `${s.service}:${s.action}`)).toEqual([
      'cloudtrail:StopLogging',
    ]);
    expect(run.steps.every((s) => s.eventId)).toBe(true);
    expect(runMs).toBeLessThan(30_000);
  });

  it('leaves one record per step in the event history of the right Region', async () => {
    const byRegion = new Map<string, string[]>();
    for (const record of run.records) {
      byRegion.set(record.awsRegion, [...(byRegion.get(record.awsRegion) ?? []), record.eventID]);
    }
    expect([...byRegion.keys()].sort()).toEqual([
      'ap-southeast-1',
      'eu-central-1',
      'eu-west-1',
      'us-east-1',
      'us-west-2',
    ]);
    for (const [region, ids] of byRegion) {
      const seen = (await history(region)).map((r) => r.eventID);
      expect(seen.sort()).toEqual([...ids].sort());
    }
    expect(run.steps.map((s) => s.eventId)).toEqual(run.records.map((r) => r.eventID));
    // Global IAM in us-east-1; STS called at us-west-2's endpoint stays there.
    for (const record of run.records.filter((r) => r.eventSource === 'iam.amazonaws.com')) {
      expect(record.awsRegion).toBe('us-east-1');
    }
    expect(
      run.records.find((r) => r.eventName === 'GetCallerIdentity' && r.awsRegion === 'us-west-2'),
    ).toBeDefined();
    // Newest last, ten minutes at most.
    const times = run.records.map((r) => Date.parse(r.eventTime));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeLessThanOrEqual(10 * 60_000);
  });

  it('really launched the GPU instances in moto, in the Regions the records name', async () => {
    const launches = run.steps.filter((s) => s.action === 'RunInstances');
    expect(launches.map((s) => s.region)).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1', 'us-west-2']);
    for (const step of launches) {
      const found = await instances(step.region);
      expect(found.map((i) => i.InstanceId).sort()).toEqual([...(step.createdIds ?? [])].sort());
      const record = run.records.find((r) => r.eventID === step.eventId) as CloudTrailRecord;
      const items = (
        record.responseElements as { instancesSet: { items: { instanceId: string; instanceType: string }[] } }
      ).instancesSet.items;
      expect(items.map((i) => i.instanceId).sort()).toEqual([...(step.createdIds ?? [])].sort());
      for (const instance of found) {
        expect(instance.InstanceType).toMatch(/^(g4dn|g5|p3)\./);
        expect(items.find((i) => i.instanceId === instance.InstanceId)?.instanceType).toBe(
          instance.InstanceType,
        );
      }
    }
    expect(await instances('us-east-1')).toHaveLength(2);
    // The SSH hole and the key pair are there too.
    const groups = await ec2('us-east-1').send(
      new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }),
    );
    expect(groups.SecurityGroups?.[0]?.IpPermissions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          FromPort: 22,
          IpRanges: [expect.objectContaining({ CidrIp: '0.0.0.0/0' })],
        }),
      ]),
    );
    const keys = await ec2('us-east-1').send(new DescribeKeyPairsCommand({}));
    expect(keys.KeyPairs?.map((k) => k.KeyName)).toEqual(['xmr-node']);
    expect(lightsail.instances('eu-central-1').map((i) => i.name)).toEqual(['wp-prod-1']);
  });

  it('created the backdoor user, with AdministratorAccess and the key the records show', async () => {
    const user = await iam().send(new GetUserCommand({ UserName: 'support-admin' }));
    const policies = await iam().send(new ListAttachedUserPoliciesCommand({ UserName: 'support-admin' }));
    expect(policies.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([
      'arn:aws:iam::aws:policy/AdministratorAccess',
    ]);
    const keys = await iam().send(new ListAccessKeysCommand({ UserName: 'support-admin' }));
    expect(keys.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([run.credentials.backdoor]);

    const createUser = run.records.find((r) => r.eventName === 'CreateUser');
    expect(createUser?.responseElements).toMatchObject({
      user: { userName: 'support-admin', userId: user.User?.UserId, arn: user.User?.Arn },
    });
    const createKey = run.records.find((r) => r.eventName === 'CreateAccessKey');
    expect(createKey?.responseElements).toMatchObject({
      accessKey: { accessKeyId: run.credentials.backdoor },
    });
    // The backdoor's own call is recorded under its user.
    const asBackdoor = await history('us-east-1', {
      AttributeKey: 'AccessKeyId',
      AttributeValue: run.credentials.backdoor ?? '',
    });
    expect(asBackdoor.map((r) => [r.eventName, r.userIdentity.userName])).toEqual([
      ['ListAttachedUserPolicies', 'support-admin'],
    ]);
  });

  it("records the session token pivot: the minting record names the ASIA key, the pivot's calls carry it", async () => {
    const session = run.credentials.session ?? '';
    expect(session).toMatch(/^ASIA/);
    const mint = run.records.find((r) => r.eventName === 'GetSessionToken') as CloudTrailRecord;
    expect(mint.userIdentity.accessKeyId).toBe(leakedKey);
    expect(pivotOf(JSON.stringify(mint))).toMatchObject({ accessKeyId: session, mintedBy: leakedKey });

    const pivotCalls = await history('us-west-2', { AttributeKey: 'AccessKeyId', AttributeValue: session });
    expect(pivotCalls.map((r) => r.eventName).sort()).toEqual(['GetCallerIdentity', 'RunInstances']);
    for (const record of pivotCalls) {
      expect(record.userIdentity).toMatchObject({
        type: 'IAMUser',
        userName: VICTIM,
        accessKeyId: session,
        sessionContext: { attributes: { mfaAuthenticated: 'false' } },
      });
    }
    // The leaked key's own activity does not carry the pivot.
    const leaked = await history('us-east-1', { AttributeKey: 'AccessKeyId', AttributeValue: leakedKey });
    expect(leaked.length).toBeGreaterThan(5);
    expect(leaked.every((r) => r.userIdentity.sessionContext === undefined)).toBe(true);
  });

  it('records the StopLogging attempt as denied, and the trail still logs', async () => {
    const [denied] = await history('us-east-1', { AttributeKey: 'EventName', AttributeValue: 'StopLogging' });
    expect(denied).toMatchObject({
      eventSource: 'cloudtrail.amazonaws.com',
      errorCode: 'AccessDenied',
      errorMessage: expect.stringContaining(
        `cloudtrail:StopLogging on resource: arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${TRAIL}`,
      ),
      requestParameters: { name: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${TRAIL}` },
      responseElements: null,
    });
    const status = await trailClient(moto.endpoint).send(new GetTrailStatusCommand({ Name: TRAIL }));
    expect(status.IsLogging).toBe(true);
  });
});
