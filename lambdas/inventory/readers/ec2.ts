/**
 * EC2 in one Region: instances in every state, Spot requests, key pairs, security groups open to the
 * internet, AMIs and snapshots shared outside the account, and new volumes.
 */
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
  type EC2Client,
  type Image,
  type Instance,
  type IpPermission,
  type Snapshot,
  type Tag,
} from '@aws-sdk/client-ec2';
import {
  ec2ImageCleanup,
  ec2InstanceCleanup,
  ec2KeyPairCleanup,
  ec2SecurityGroupCleanup,
  ec2SnapshotCleanup,
  ec2SpotRequestCleanup,
  ec2VolumeCleanup,
  isShared,
  type OpenPermission,
  type Sharing,
} from '../cleanup';
import { hourlyUsd } from '../pricing';
import type { ReaderResult } from '../types';
import {
  compact,
  isNew,
  iso,
  mapLimit,
  paginate,
  type ReaderContext,
  type ReaderRun,
  runReader,
} from './common';

export type Ec2Clients = { ec2: EC2Client };

/**
 * Per-resource sharing checks (one DescribeSnapshotAttribute or DescribeImageAttribute each) are capped: an
 * account with years of backup snapshots would otherwise spend the whole step on them. New ones are checked
 * first; past the cap the result says how many were not checked.
 */
export const MAX_SHARING_CHECKS = 500;
const SHARING_CONCURRENCY = 8;

const INTERNET_V4 = '0.0.0.0/0';
const INTERNET_V6 = '::/0';

export async function readEc2(ctx: ReaderContext<Ec2Clients>): Promise<ReaderResult> {
  return runReader('ec2', ctx, async (run) => {
    // Instances first: they are what costs money by the hour.
    await run.part('instances', () => readInstances(run, ctx));
    await run.part('spot requests', () => readSpotRequests(run, ctx));
    await run.part('key pairs', () => readKeyPairs(run, ctx));
    await run.part('security groups', () => readSecurityGroups(run, ctx));
    await run.part('images', () => readImages(run, ctx));
    await run.part('snapshots', () => readSnapshots(run, ctx));
    await run.part('volumes', () => readVolumes(run, ctx));
  });
}

const tag = (tags: Tag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;

/**
 * When the instance was first launched. LaunchTime moves on every stop/start, so an old instance the
 * attacker restarted would look new; the primary network interface and the root volume keep the original
 * attachment time. The earliest of the three is the creation time.
 */
export function instanceCreatedAt(instance: Instance): string | undefined {
  const times = [
    instance.LaunchTime,
    instance.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === 0)?.Attachment?.AttachTime,
    instance.BlockDeviceMappings?.find((b) => b.DeviceName === instance.RootDeviceName)?.Ebs?.AttachTime,
  ]
    .map((t) => iso(t))
    .filter((t): t is string => t !== undefined)
    .sort();
  return times[0];
}

async function readInstances(run: ReaderRun, ctx: ReaderContext<Ec2Clients>): Promise<void> {
  const { region, accountId, since } = ctx;
  await paginate(
    run,
    'ec2:DescribeInstances',
    // No server-side time filter: `launch-time` would miss restarted old instances (and moto lacks it).
    (NextToken) => ctx.clients.ec2.send(new DescribeInstancesCommand({ MaxResults: 1000, NextToken })),
    (page) => page.NextToken,
    (page) => {
      for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        const id = instance.InstanceId;
        if (!id) continue;
        const state = instance.State?.Name ?? 'unknown';
        const createdAt = instanceCreatedAt(instance);
        // A terminated instance stays visible for about an hour; an old one is history, a new one is evidence.
        if (state === 'terminated' && !isNew(createdAt, since)) continue;
        const type = instance.InstanceType ?? 'unknown';
        const spot = instance.InstanceLifecycle === 'spot';
        const price = hourlyUsd('ec2', type, region);
        const billing = state === 'running' || state === 'pending';
        const options = {
          state,
          spotInstanceRequestId: instance.SpotInstanceRequestId,
          spotFleetRequestId: tag(instance.Tags, 'aws:ec2spot:fleet-request-id'),
          ec2FleetId: tag(instance.Tags, 'aws:ec2:fleet-id'),
          autoScalingGroup: tag(instance.Tags, 'aws:autoscaling:groupName'),
        };
        run.items.push({
          service: 'ec2',
          type: 'instance',
          id,
          arn: `arn:aws:ec2:${region}:${accountId}:instance/${id}`,
          region,
          createdAt,
          createdByKey: 'unknown',
          // Only compute that is billing now; stopped instances pay for their volumes only.
          ...(billing && price !== undefined ? { estimatedHourlyUsd: price } : {}),
          ...ec2InstanceCleanup(region, id, options),
          details: compact({
            instanceType: type,
            state,
            lifecycle: spot ? 'spot' : (instance.InstanceLifecycle ?? 'on-demand'),
            ...(billing && price !== undefined && spot
              ? { priceBasis: 'on-demand list price: an upper bound for Spot' }
              : {}),
            ...(billing && price === undefined
              ? { priceBasis: `no list price for ${type} in the shipped table` }
              : {}),
            launchTime: iso(instance.LaunchTime),
            imageId: instance.ImageId,
            keyName: instance.KeyName,
            publicIp: instance.PublicIpAddress,
            availabilityZone: instance.Placement?.AvailabilityZone,
            name: tag(instance.Tags, 'Name'),
            spotInstanceRequestId: options.spotInstanceRequestId,
            spotFleetRequestId: options.spotFleetRequestId,
            ec2FleetId: options.ec2FleetId,
            autoScalingGroup: options.autoScalingGroup,
            volumeIds: (instance.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId).filter(Boolean),
          }),
        });
      }
    },
  );
}

async function readSpotRequests(run: ReaderRun, ctx: ReaderContext<Ec2Clients>): Promise<void> {
  const { region, accountId, since } = ctx;
  await paginate(
    run,
    'ec2:DescribeSpotInstanceRequests',
    (NextToken) =>
      ctx.clients.ec2.send(new DescribeSpotInstanceRequestsCommand({ MaxResults: 1000, NextToken })),
    (page) => page.NextToken,
    (page) => {
      for (const request of page.SpotInstanceRequests ?? []) {
        const id = request.SpotInstanceRequestId;
        if (!id) continue;
        const state = request.State ?? 'unknown';
        const live = state === 'open' || state === 'active' || state === 'disabled';
        if (!live && !isNew(request.CreateTime, since)) continue;
        run.items.push({
          service: 'ec2',
          type: 'spot-request',
          id,
          arn: `arn:aws:ec2:${region}:${accountId}:spot-instances-request/${id}`,
          region,
          createdAt: iso(request.CreateTime),
          createdByKey: 'unknown',
          ...ec2SpotRequestCleanup(region, id, state),
          details: compact({
            state,
            requestType: request.Type,
            instanceType: request.LaunchSpecification?.InstanceType,
            instanceId: request.InstanceId,
            status: request.Status?.Code,
          }),
        });
      }
    },
  );
}

async function readKeyPairs(run: ReaderRun, ctx: ReaderContext<Ec2Clients>): Promise<void> {
  const { region, accountId } = ctx;
  // Not paginated: an account holds at most 5,000 key pairs per Region.
  const out = await run.call('ec2:DescribeKeyPairs', () =>
    ctx.clients.ec2.send(new DescribeKeyPairsCommand({})),
  );
  for (const pair of out.KeyPairs ?? []) {
    if (!pair.KeyName) continue;
    run.items.push({
      service: 'ec2',
      type: 'key-pair',
      id: pair.KeyName,
      ...(pair.KeyPairId ? { arn: `arn:aws:ec2:${region}:${accountId}:key-pair/${pair.KeyPairId}` } : {}),
      region,
      createdAt: iso(pair.CreateTime),
      createdByKey: 'unknown',
      ...ec2KeyPairCleanup(region, pair.KeyName, pair.KeyPairId),
      details: compact({
        keyPairId: pair.KeyPairId,
        keyType: pair.KeyType,
        fingerprint: pair.KeyFingerprint,
      }),
    });
  }
}

/** The parts of the group's ingress rules that are open to the whole internet, in the shape revoke takes. */
export function openIngress(permissions: IpPermission[] | undefined): OpenPermission[] {
  const open: OpenPermission[] = [];
  for (const p of permissions ?? []) {
    const v4 = (p.IpRanges ?? [])
      .filter((r) => r.CidrIp === INTERNET_V4)
      .map(() => ({ CidrIp: INTERNET_V4 }));
    const v6 = (p.Ipv6Ranges ?? [])
      .filter((r) => r.CidrIpv6 === INTERNET_V6)
      .map(() => ({ CidrIpv6: INTERNET_V6 }));
    if (v4.length === 0 && v6.length === 0) continue;
    open.push({
      IpProtocol: p.IpProtocol ?? '-1',
      // All-traffic rules (-1) carry no ports; revoke rejects ports on them.
      ...(p.FromPort !== undefined && p.IpProtocol !== '-1' ? { FromPort: p.FromPort } : {}),
      ...(p.ToPort !== undefined && p.IpProtocol !== '-1' ? { ToPort: p.ToPort } : {}),
      ...(v4.length > 0 ? { IpRanges: v4 } : {}),
      ...(v6.length > 0 ? { Ipv6Ranges: v6 } : {}),
    });
  }
  return open;
}

const describePorts = (p: OpenPermission) =>
  p.IpProtocol === '-1'
    ? 'all traffic'
    : `${p.IpProtocol} ${p.FromPort === p.ToPort ? p.FromPort : `${p.FromPort}-${p.ToPort}`}`;

async function readSecurityGroups(run: ReaderRun, ctx: ReaderContext<Ec2Clients>): Promise<void> {
  const { region, accountId } = ctx;
  await paginate(
    run,
    'ec2:DescribeSecurityGroups',
    (NextToken) => ctx.clients.ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 1000, NextToken })),
    (page) => page.NextToken,
    (page) => {
      for (const group of page.SecurityGroups ?? []) {
        const open = openIngress(group.IpPermissions);
        if (!group.GroupId || open.length === 0) continue;
        run.items.push({
          service: 'ec2',
          type: 'security-group',
          id: group.GroupId,
          arn: `arn:aws:ec2:${region}:${accountId}:security-group/${group.GroupId}`,
          region,
          // EC2 does not date security groups; attribution relies on the key's calls.
          createdByKey: 'unknown',
          ...ec2SecurityGroupCleanup(region, group.GroupId, open),
          details: compact({
            groupName: group.GroupName,
            vpcId: group.VpcId,
            openTo: [
              ...new Set(
                open.flatMap((p) => [
                  ...(p.IpRanges ?? []).map((r) => r.CidrIp),
                  ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6),
                ]),
              ),
            ],
            openPorts: open.map(describePorts),
          }),
        });
      }
    },
  );
}

/** New resources first, then the newest old ones; the cap applies to what is left. */
function checkOrder<T>(resources: T[], createdAt: (r: T) => string | undefined, since: Date): T[] {
  return [...resources].sort((a, b) => {
    const na = isNew(createdAt(a), since) ? 1 : 0;
    const nb = isNew(createdAt(b), since) ? 1 : 0;
    return nb - na || (createdAt(b) ?? '').localeCompare(createdAt(a) ?? '');
  });
}

function capChecks<T>(run: ReaderRun, what: string, ordered: T[]): T[] {
  if (ordered.length <= MAX_SHARING_CHECKS) return ordered;
  run.note(
    `sharing of ${ordered.length - MAX_SHARING_CHECKS} older ${what} not checked (limit ${MAX_SHARING_CHECKS} per Region)`,
  );
  return ordered.slice(0, MAX_SHARING_CHECKS);
}

async function readImages(run: ReaderRun, ctx: ReaderContext<Ec2Clients>): Promise<void> {
  const { region, accountId, since, clients } = ctx;
  const images: Image[] = [];
  await paginate(
    run,
    'ec2:DescribeImages',
    (NextToken) =>
      clients.ec2.send(
        new DescribeImagesCommand({ Owners: ['self'], IncludeDeprecated: true, MaxResults: 1000, NextToken }),
      ),
    (page) => page.NextToken,
    (page) => images.push(...(page.Images ?? []).filter((i) => i.ImageId)),
  );
  const checked = capChecks(
    run,
    'images',
    checkOrder(images, (i) => iso(i.CreationDate), since),
  );
  await mapLimit(checked, SHARING_CONCURRENCY, async (image) => {
    const imageId = image.ImageId as string;
    const attribute = await run.optional('ec2:DescribeImageAttribute', () =>
      clients.ec2.send(
        new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }),
      ),
    );
    const permissions = attribute?.LaunchPermissions ?? [];
    const sharing: Sharing = {
      // `Public` in DescribeImages says the same as Group=all; either is enough.
      public: image.Public === true || permissions.some((p) => p.Group === 'all'),
      accounts: otherAccounts(
        permissions.map((p) => p.UserId),
        accountId,
      ),
      organizations: permissions.map((p) => p.OrganizationArn).filter((a): a is string => Boolean(a)),
      organizationalUnits: permissions
        .map((p) => p.OrganizationalUnitArn)
        .filter((a): a is string => Boolean(a)),
    };
    const createdAt = iso(image.CreationDate);
    if (!isShared(sharing) && !isNew(createdAt, since)) return;
    const snapshotIds = (image.BlockDeviceMappings ?? [])
      .map((b) => b.Ebs?.SnapshotId)
      .filter((s): s is string => Boolean(s));
    run.items.push({
      service: 'ec2',
      type: 'image',
      id: imageId,
      arn: `arn:aws:ec2:${region}::image/${imageId}`,
      region,
      createdAt,
      createdByKey: 'unknown',
      ...ec2ImageCleanup(region, imageId, sharing, snapshotIds),
      details: compact({ name: image.Name, state: image.State, sharing, snapshotIds }),
    });
  });
}

async function readSnapshots(run: ReaderRun, ctx: ReaderContext<Ec2Clients>): Promise<void> {
  const { region, accountId, since, clients } = ctx;
  const snapshots: Snapshot[] = [];
  await paginate(
    run,
    'ec2:DescribeSnapshots',
    (NextToken) =>
      clients.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], MaxResults: 1000, NextToken })),
    (page) => page.NextToken,
    (page) => snapshots.push(...(page.Snapshots ?? []).filter((s) => s.SnapshotId)),
  );
  const checked = capChecks(
    run,
    'snapshots',
    checkOrder(snapshots, (s) => iso(s.StartTime), since),
  );
  await mapLimit(checked, SHARING_CONCURRENCY, async (snapshot) => {
    const snapshotId = snapshot.SnapshotId as string;
    const attribute = await run.optional('ec2:DescribeSnapshotAttribute', () =>
      clients.ec2.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }),
      ),
    );
    const permissions = attribute?.CreateVolumePermissions ?? [];
    const sharing: Sharing = {
      public: permissions.some((p) => p.Group === 'all'),
      accounts: otherAccounts(
        permissions.map((p) => p.UserId),
        accountId,
      ),
    };
    const createdAt = iso(snapshot.StartTime);
    // A shared snapshot is exfiltration whatever its age; an unshared old one is the owner's backup.
    if (!isShared(sharing) && !isNew(createdAt, since)) return;
    run.items.push({
      service: 'ec2',
      type: 'snapshot',
      id: snapshotId,
      arn: `arn:aws:ec2:${region}::snapshot/${snapshotId}`,
      region,
      createdAt,
      createdByKey: 'unknown',
      ...ec2SnapshotCleanup(region, snapshotId, sharing),
      details: compact({
        volumeId: snapshot.VolumeId,
        sizeGiB: snapshot.VolumeSize,
        state: snapshot.State,
        description: snapshot.Description,
        sharing,
      }),
    });
  });
}

async function readVolumes(run: ReaderRun, ctx: ReaderContext<Ec2Clients>): Promise<void> {
  const { region, accountId, since } = ctx;
  await paginate(
    run,
    'ec2:DescribeVolumes',
    (NextToken) => ctx.clients.ec2.send(new DescribeVolumesCommand({ MaxResults: 500, NextToken })),
    (page) => page.NextToken,
    (page) => {
      for (const volume of page.Volumes ?? []) {
        // Old volumes cannot be the key's: no call of the key names a volume it did not create.
        if (!volume.VolumeId || !isNew(volume.CreateTime, since)) continue;
        const attachments = (volume.Attachments ?? []).flatMap((a) =>
          a.InstanceId ? [{ instanceId: a.InstanceId, deleteOnTermination: a.DeleteOnTermination }] : [],
        );
        const instanceIds = attachments.map((a) => a.instanceId);
        run.items.push({
          service: 'ec2',
          type: 'volume',
          id: volume.VolumeId,
          arn: `arn:aws:ec2:${region}:${accountId}:volume/${volume.VolumeId}`,
          region,
          createdAt: iso(volume.CreateTime),
          createdByKey: 'unknown',
          ...ec2VolumeCleanup(region, volume.VolumeId, attachments),
          details: compact({
            sizeGiB: volume.Size,
            volumeType: volume.VolumeType,
            state: volume.State,
            snapshotId: volume.SnapshotId || undefined,
            attachedTo: instanceIds,
          }),
        });
      }
    },
  );
}

function otherAccounts(ids: (string | undefined)[], accountId: string): string[] {
  return [...new Set(ids.filter((id): id is string => Boolean(id) && id !== accountId))];
}
