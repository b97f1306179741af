/**
 * The inventory readers against the emulator (moto) and the Lightsail stand-in: what an attacker left in
 * two Regions is found in the right Region, with its cost and clean-up line, and joins with the key's
 * records. Nothing is deleted.
 */
import { CloudTrailClient, CreateTrailCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateInstancesCommand, LightsailClient } from '@aws-sdk/client-lightsail';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SESClient } from '@aws-sdk/client-ses';
import { attribute, buildEvidenceIndex } from '../../lambdas/inventory/attribution';
import { type InventoryClients, inventoryRegion } from '../../lambdas/inventory/inventory-region';
import type { InventoryItem, ReaderResult } from '../../lambdas/inventory/types';
import { type MotoServer, startMoto } from '../../scripts/emulator/moto';
import { type LightsailStandIn, startLightsailStandIn } from '../../scripts/standins/lightsail';

const ACCOUNT = '123456789012';
const HOME = 'us-east-1';
const AWAY = 'eu-west-1';
const OUTSIDER = '999988887777';
const LEAKED = 'AKIAEXAMPLELEAKED001';
const SERVICES = ['ec2', 'iam', 'lightsail', 'cloudtrail', 'ses', 'lambda'];
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

jest.setTimeout(60_000);

describe('inventory readers against the emulator', () => {
  let moto: MotoServer;
  let lightsail: LightsailStandIn;
  const clients = new Map<string, InventoryClients & { s3: S3Client }>();
  const clientsFor = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      const common = { region, endpoint: moto.endpoint, credentials, maxAttempts: 1 };
      c = {
        ec2: new EC2Client(common),
        iam: new IAMClient({ ...common, region: HOME }),
        ses: new SESClient(common),
        cloudtrail: new CloudTrailClient(common),
        lambda: new LambdaClient(common),
        lightsail: new LightsailClient({ ...common, endpoint: lightsail.endpoint }),
        s3: new S3Client({ ...common, forcePathStyle: true }),
      };
      clients.set(region, c);
    }
    return c;
  };
  const seeded = {
    homeInstance: '',
    minerInstances: [] as string[],
    openGroup: '',
    sharedSnapshot: '',
    backdoorKey: '',
  };
  let since: Date;
  let results: Record<string, ReaderResult[]>;

  beforeAll(async () => {
    // Moto stamps creation times to the second: start the window a little before the seeding.
    since = new Date(Date.now() - 60_000);
    [moto, lightsail] = await Promise.all([
      startMoto({ env: { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } }),
      startLightsailStandIn({ accountId: ACCOUNT }),
    ]);
    const home = clientsFor(HOME);
    const away = clientsFor(AWAY);

    const small = await home.ec2?.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
      }),
    );
    seeded.homeInstance = small?.Instances?.[0]?.InstanceId ?? '';
    const miners = await away.ec2?.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: 'g4dn.xlarge',
        MinCount: 2,
        MaxCount: 2,
      }),
    );
    seeded.minerInstances = (miners?.Instances ?? []).map((i) => i.InstanceId ?? '');
    await away.ec2?.send(new CreateKeyPairCommand({ KeyName: 'miner' }));
    const group = await away.ec2?.send(
      new CreateSecurityGroupCommand({ GroupName: 'ssh', Description: 'ssh' }),
    );
    seeded.openGroup = group?.GroupId ?? '';
    await away.ec2?.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: seeded.openGroup,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const volume = await away.ec2?.send(new CreateVolumeCommand({ AvailabilityZone: `${AWAY}a`, Size: 8 }));
    const snapshot = await away.ec2?.send(new CreateSnapshotCommand({ VolumeId: volume?.VolumeId }));
    seeded.sharedSnapshot = snapshot?.SnapshotId ?? '';
    await away.ec2?.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: seeded.sharedSnapshot,
        Attribute: 'createVolumePermission',
        OperationType: 'add',
        UserIds: [OUTSIDER],
      }),
    );

    await home.iam?.send(new CreateUserCommand({ UserName: 'backdoor' }));
    const key = await home.iam?.send(new CreateAccessKeyCommand({ UserName: 'backdoor' }));
    seeded.backdoorKey = key?.AccessKey?.AccessKeyId ?? '';
    await home.iam?.send(
      new AttachUserPolicyCommand({
        UserName: 'backdoor',
        PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      }),
    );

    await away.lightsail?.send(
      new CreateInstancesCommand({
        instanceNames: ['ls-miner'],
        availabilityZone: `${AWAY}a`,
        blueprintId: 'ubuntu_22_04',
        bundleId: '2xlarge_3_0',
      }),
    );

    await home.s3.send(new CreateBucketCommand({ Bucket: 'org-trail-logs' }));
    await home.cloudtrail?.send(
      new CreateTrailCommand({ Name: 'main', S3BucketName: 'org-trail-logs', IsMultiRegionTrail: true }),
    );
    await home.cloudtrail?.send(new StopLoggingCommand({ Name: 'main' }));

    const deps = { accountId: ACCOUNT, since, clientsFor, sleep: async () => {} };
    const [inHome, inAway] = await Promise.all([
      inventoryRegion(HOME, SERVICES, deps),
      inventoryRegion(AWAY, SERVICES, deps),
    ]);
    results = { [HOME]: inHome, [AWAY]: inAway };
  });

  afterAll(async () => {
    for (const c of clients.values()) {
      for (const client of Object.values(c)) client?.destroy();
    }
    await Promise.all([moto?.stop(), lightsail?.stop()]);
  });

  const result = (region: string, service: string) =>
    results[region].find((r) => r.service === service) as ReaderResult;
  const items = (region: string, service: string, type?: string) =>
    result(region, service).items.filter((i) => type === undefined || i.type === type);
  const everything = () => Object.values(results).flatMap((rs) => rs.flatMap((r) => r.items));

  it('reads every service completely in both Regions', () => {
    for (const region of [HOME, AWAY]) {
      expect(results[region].map((r) => [r.service, r.complete, r.error])).toEqual(
        SERVICES.map((s) => [s, true, undefined]),
      );
    }
    expect(result(AWAY, 'iam').skipped).toContain('global');
  });

  it('finds each instance in its own Region, priced, with a clean-up line for that Region', () => {
    const away = items(AWAY, 'ec2', 'instance');
    expect(away.map((i) => i.id).sort()).toEqual([...seeded.minerInstances].sort());
    for (const miner of away) {
      expect(miner).toMatchObject({ region: AWAY, estimatedHourlyUsd: 0.526, createdByKey: 'unknown' });
      expect(miner.cleanup).toBe(
        `aws ec2 modify-instance-attribute --region ${AWAY} --instance-id ${miner.id} --no-disable-api-termination && ` +
          `aws ec2 terminate-instances --region ${AWAY} --instance-ids ${miner.id}`,
      );
      expect(miner.consoleUrl).toBe(
        `https://console.aws.amazon.com/ec2/home?region=${AWAY}#InstanceDetails:instanceId=${miner.id}`,
      );
    }
    expect(items(HOME, 'ec2', 'instance').map((i) => [i.id, i.estimatedHourlyUsd])).toEqual([
      [seeded.homeInstance, 0.0104],
    ]);
  });

  it('finds the key pair, the open group and the shared snapshot only where they are', () => {
    expect(items(AWAY, 'ec2', 'key-pair')).toEqual([
      expect.objectContaining({
        id: 'miner',
        cleanup: expect.stringMatching(/^aws ec2 delete-key-pair --region eu-west-1 /),
      }),
    ]);
    expect(items(AWAY, 'ec2', 'security-group')).toEqual([
      expect.objectContaining({
        id: seeded.openGroup,
        cleanup: `aws ec2 revoke-security-group-ingress --region ${AWAY} --group-id ${seeded.openGroup} --ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'`,
      }),
    ]);
    expect(items(AWAY, 'ec2', 'snapshot')).toEqual([
      expect.objectContaining({
        id: seeded.sharedSnapshot,
        details: expect.objectContaining({ sharing: { public: false, accounts: [OUTSIDER] } }),
        cleanup: expect.stringContaining(`--operation-type remove --user-ids ${OUTSIDER}`),
      }),
    ]);
    expect(items(HOME, 'ec2').filter((i) => i.type !== 'instance' && i.type !== 'volume')).toEqual([]);
  });

  it('finds the backdoor user, its key and its admin policy, once, as global', () => {
    const iam = everything().filter((i) => i.service === 'iam');
    const user = iam.find((i) => i.type === 'user' && i.id === 'backdoor') as InventoryItem;
    expect(user).toMatchObject({ region: 'global', arn: `arn:aws:iam::${ACCOUNT}:user/backdoor` });
    expect(user.details).toMatchObject({
      attachedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'],
    });
    expect(user.cleanup).toBe(
      `aws iam delete-access-key --user-name backdoor --access-key-id ${seeded.backdoorKey} && ` +
        'aws iam detach-user-policy --user-name backdoor --policy-arn arn:aws:iam::aws:policy/AdministratorAccess && ' +
        'aws iam delete-user --user-name backdoor',
    );
    expect(iam.filter((i) => i.type === 'access-key').map((i) => i.id)).toEqual([seeded.backdoorKey]);
  });

  it('finds the Lightsail instance through the stand-in, in its Region only', () => {
    expect(items(AWAY, 'lightsail')).toEqual([
      expect.objectContaining({
        id: 'ls-miner',
        region: AWAY,
        estimatedHourlyUsd: 0.2204,
        cleanup: `aws lightsail delete-instance --region ${AWAY} --instance-name ls-miner`,
      }),
    ]);
    expect(items(HOME, 'lightsail')).toEqual([]);
  });

  it('reports the stopped trail as a guard rail that is off', () => {
    const [trail] = items(HOME, 'cloudtrail');
    expect(trail).toMatchObject({
      id: 'main',
      type: 'guard-rail',
      details: expect.objectContaining({ status: 'off' }),
    });
    expect(trail.cleanup).toBe(`aws cloudtrail start-logging --region ${HOME} --name ${trail.arn}`);
    expect(items(AWAY, 'cloudtrail')).toEqual([]);
  });

  it('joins the inventory with the key records', () => {
    const [miner, other] = seeded.minerInstances;
    const record = (
      eventSource: string,
      eventName: string,
      awsRegion: string,
      extra: Record<string, unknown>,
    ) => ({
      eventID: `evt-${eventName}`,
      eventSource: `${eventSource}.amazonaws.com`,
      eventName,
      awsRegion,
      eventTime: new Date().toISOString(),
      userIdentity: { accessKeyId: LEAKED },
      ...extra,
    });
    const index = buildEvidenceIndex(
      [
        record('ec2', 'RunInstances', AWAY, {
          responseElements: { instancesSet: { items: [{ instanceId: miner }] } },
        }),
        record('ec2', 'AuthorizeSecurityGroupIngress', AWAY, {
          requestParameters: { groupId: seeded.openGroup },
        }),
        record('iam', 'CreateUser', HOME, { requestParameters: { userName: 'backdoor' } }),
        record('lightsail', 'CreateInstances', AWAY, { requestParameters: { instanceNames: ['ls-miner'] } }),
        record('cloudtrail', 'StopLogging', HOME, { requestParameters: { name: 'main' } }),
      ].map((r) => JSON.stringify(r)),
      { keys: [LEAKED] },
    );

    const report = attribute(everything(), index, since, { completeRegions: new Set([HOME, AWAY]) });
    const of = (id: string) => report.find((i) => i.id === id);

    expect(of(miner)).toMatchObject({ createdByKey: true, evidenceEventId: 'evt-RunInstances' });
    expect(of(other)).toMatchObject({ createdByKey: 'unknown' });
    expect(of(seeded.openGroup)).toMatchObject({
      createdByKey: true,
      evidenceEventId: 'evt-AuthorizeSecurityGroupIngress',
    });
    expect(of('backdoor')).toMatchObject({ createdByKey: true, evidenceEventId: 'evt-CreateUser' });
    expect(of('ls-miner')).toMatchObject({ createdByKey: true, evidenceEventId: 'evt-CreateInstances' });
    expect(of('main')).toMatchObject({ createdByKey: true, evidenceEventId: 'evt-StopLogging' });
    // The key's findings come first, dearest first: the GPU instance before the Lightsail bundle.
    expect(report.slice(0, 2).map((i) => i.id)).toEqual([miner, 'ls-miner']);
  });
});
