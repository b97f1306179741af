/**
 * Runs the readers of one Region, a few at a time. One Map item of the workflow per Region: each reader
 * throttles itself, and a bounded number at once keeps a Region's describe calls under the account's API
 * rate while the other Regions run in parallel Map items.
 */
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { LightsailClient } from '@aws-sdk/client-lightsail';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { SESClient } from '@aws-sdk/client-ses';
import { describeError } from '../shared/errors';
import { readCloudTrail } from './readers/cloudtrail';
import { readCodeBuild } from './readers/codebuild';
import { mapLimit, type ReaderContext } from './readers/common';
import { readEc2 } from './readers/ec2';
import { readEcs } from './readers/ecs';
import { readGuardDuty } from './readers/guardduty';
import { readIam } from './readers/iam';
import { readLambda } from './readers/lambda';
import { readLightsail } from './readers/lightsail';
import { readSageMaker } from './readers/sagemaker';
import { readSes } from './readers/ses';
import type { ReaderResult } from './types';

export interface InventoryClients {
  ec2?: EC2Client;
  iam?: IAMClient;
  ses?: SESClient;
  lightsail?: LightsailClient;
  cloudtrail?: CloudTrailClient;
  lambda?: LambdaClient;
  guardduty?: GuardDutyClient;
  sagemaker?: SageMakerClient;
  ecs?: ECSClient;
  codebuild?: CodeBuildClient;
}

export interface InventoryDeps {
  accountId: string;
  since: Date;
  /** Clients for `region` (the caller builds and caches them; the IAM client's Region does not matter). */
  clientsFor: (region: string) => InventoryClients;
  /** Readers running at once in the Region. @default 4 */
  concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  maxAttempts?: number;
}

type Run = (
  ctx: Omit<ReaderContext<unknown>, 'clients'>,
  clients: InventoryClients,
) => Promise<ReaderResult> | undefined;

/**
 * The readers, by the service name the workflow passes. `cloudtrail` and `guardduty` read the account's
 * guard rails.
 */
const READERS: Record<string, Run> = {
  ec2: (ctx, c) => (c.ec2 ? readEc2({ ...ctx, clients: { ec2: c.ec2 } }) : undefined),
  iam: (ctx, c) => (c.iam ? readIam({ ...ctx, clients: { iam: c.iam } }) : undefined),
  ses: (ctx, c) => (c.ses ? readSes({ ...ctx, clients: { ses: c.ses } }) : undefined),
  lightsail: (ctx, c) =>
    c.lightsail ? readLightsail({ ...ctx, clients: { lightsail: c.lightsail } }) : undefined,
  cloudtrail: (ctx, c) =>
    c.cloudtrail ? readCloudTrail({ ...ctx, clients: { cloudtrail: c.cloudtrail } }) : undefined,
  lambda: (ctx, c) => (c.lambda ? readLambda({ ...ctx, clients: { lambda: c.lambda } }) : undefined),
  guardduty: (ctx, c) =>
    c.guardduty ? readGuardDuty({ ...ctx, clients: { guardduty: c.guardduty } }) : undefined,
  sagemaker: (ctx, c) =>
    c.sagemaker ? readSageMaker({ ...ctx, clients: { sagemaker: c.sagemaker } }) : undefined,
  ecs: (ctx, c) => (c.ecs ? readEcs({ ...ctx, clients: { ecs: c.ecs } }) : undefined),
  codebuild: (ctx, c) =>
    c.codebuild ? readCodeBuild({ ...ctx, clients: { codebuild: c.codebuild } }) : undefined,
};

export const INVENTORY_SERVICES = Object.keys(READERS);

/**
 * Services the issue asks for that have no reader yet: named in the results so the report says
 * what was not looked at instead of implying there was nothing.
 */
export const NOT_YET_READ: readonly string[] = [];

const failed = (service: string, region: string, error: string): ReaderResult => ({
  service,
  region,
  items: [],
  complete: false,
  error,
  apiCalls: 0,
});

/**
 * Inventories `services` in `region`, at most `concurrency` readers at a time, one result per service in
 * the order asked. Nothing throws for one service: a reader that fails outright (a bug, an unexpected
 * error) is recorded with its reason and the others' results are kept.
 */
export async function inventoryRegion(
  region: string,
  services: readonly string[],
  deps: InventoryDeps,
): Promise<ReaderResult[]> {
  const clients = deps.clientsFor(region);
  const ctx = {
    region,
    accountId: deps.accountId,
    since: deps.since,
    sleep: deps.sleep,
    random: deps.random,
    maxAttempts: deps.maxAttempts,
  };
  return mapLimit(services, deps.concurrency ?? 4, async (service) => {
    const reader = READERS[service];
    if (!reader) return failed(service, region, `not inventoried: no reader for ${service} yet`);
    try {
      return (await reader(ctx, clients)) ?? failed(service, region, `no ${service} client was provided`);
    } catch (error) {
      return failed(service, region, `reader failed: ${describeError(error)}`);
    }
  });
}
