/**
 * Lightsail instances in one Region. Attackers like Lightsail because its instances sit outside the EC2
 * console most owners watch, and a 2xlarge bundle mines as well as a small EC2 instance.
 */
import { GetInstancesCommand, type LightsailClient } from '@aws-sdk/client-lightsail';
import { lightsailInstanceCleanup } from '../cleanup';
import { hourlyUsd } from '../pricing';
import type { ReaderResult } from '../types';
import { compact, iso, paginate, type ReaderContext, runReader, skipped } from './common';

export type LightsailClients = { lightsail: LightsailClient };

/**
 * Regions Lightsail is offered in (the SDK's RegionName enum). Elsewhere it has no endpoint, and asking
 * would only fail on DNS.
 */
export const LIGHTSAIL_REGIONS: ReadonlySet<string> = new Set([
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'eu-south-2',
  'ca-central-1',
  'ap-east-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-5',
  'ap-northeast-1',
  'ap-northeast-2',
  'sa-east-1',
]);

export async function readLightsail(ctx: ReaderContext<LightsailClients>): Promise<ReaderResult> {
  const { region, clients } = ctx;
  if (!LIGHTSAIL_REGIONS.has(region))
    return skipped('lightsail', region, 'Lightsail is not offered in this Region');
  return runReader('lightsail', ctx, (run) =>
    // The JS client has no paginator for GetInstances; AWS answers 20 per page, so tokens must be followed.
    paginate(
      run,
      'lightsail:GetInstances',
      (pageToken) => clients.lightsail.send(new GetInstancesCommand({ pageToken })),
      (page) => page.nextPageToken,
      (page) => {
        for (const instance of page.instances ?? []) {
          if (!instance.name) continue;
          const bundleId = instance.bundleId ?? 'unknown';
          const price = hourlyUsd('lightsail', bundleId, region);
          run.items.push({
            service: 'lightsail',
            type: 'instance',
            id: instance.name,
            arn: instance.arn,
            region,
            createdAt: iso(instance.createdAt),
            createdByKey: 'unknown',
            // Lightsail bills a stopped instance like a running one, so the price applies in every state.
            ...(price !== undefined ? { estimatedHourlyUsd: price } : {}),
            ...lightsailInstanceCleanup(region, instance.name),
            details: compact({
              bundleId,
              blueprintId: instance.blueprintId,
              state: instance.state?.name,
              publicIp: instance.publicIpAddress,
              availabilityZone: instance.location?.availabilityZone,
              sshKeyName: instance.sshKeyName,
              ...(price === undefined
                ? { priceBasis: `no list price for bundle ${bundleId} in the shipped table` }
                : {}),
            }),
          });
        }
      },
    ),
  );
}
