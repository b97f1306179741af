import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { LightsailClient } from '@aws-sdk/client-lightsail';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SESClient } from '@aws-sdk/client-ses';
import type { Context } from 'aws-lambda';
import { evidencePrefix } from '../collect/evidence';
import { s3 } from '../shared/clients/s3';
import { required } from '../shared/env';
import { classifyAwsError } from '../shared/errors';
import { logger, tracer } from '../shared/powertools';
import { INVENTORY_SERVICES, type InventoryClients, inventoryRegion, NOT_YET_READ } from './inventory-region';

export interface InventoryRegionInput {
  incidentId: string;
  region: string;
  /** Read resources created since (the investigation window's start). */
  since: string;
}

export interface InventoryRegionOutput {
  region: string;
  /** Empty when the workflow gave up on the region (then `failure` says why). */
  rawKey: string;
  failure?: string;
  items: number;
  apiCalls: number;
  services: { service: string; complete: boolean; items: number; error?: string; skipped?: string }[];
}

export const rawInventoryKey = (incidentId: string, region: string) =>
  `${evidencePrefix(incidentId)}/inventory/raw/${region}.json`;

/** The readers retry throttling themselves, so the SDK's own retries stay few. */
const clientConfig = (region: string) => ({ region, maxAttempts: 3 });
const clients = new Map<string, InventoryClients>();
function clientsFor(region: string): InventoryClients {
  let c = clients.get(region);
  if (!c) {
    c = {
      ec2: tracer.captureAWSv3Client(new EC2Client(clientConfig(region))),
      // IAM is global; its endpoint lives in us-east-1.
      iam: tracer.captureAWSv3Client(new IAMClient(clientConfig('us-east-1'))),
      ses: tracer.captureAWSv3Client(new SESClient(clientConfig(region))),
      lightsail: tracer.captureAWSv3Client(new LightsailClient(clientConfig(region))),
      cloudtrail: tracer.captureAWSv3Client(new CloudTrailClient(clientConfig(region))),
      lambda: tracer.captureAWSv3Client(new LambdaClient(clientConfig(region))),
      guardduty: tracer.captureAWSv3Client(new GuardDutyClient(clientConfig(region))),
      sagemaker: tracer.captureAWSv3Client(new SageMakerClient(clientConfig(region))),
      ecs: tracer.captureAWSv3Client(new ECSClient(clientConfig(region))),
      codebuild: tracer.captureAWSv3Client(new CodeBuildClient(clientConfig(region))),
    };
    clients.set(region, c);
  }
  return c;
}

/** One region's inventory: every reader, a few at a time; the items go to the evidence bucket. */
export const handler = async (
  input: InventoryRegionInput,
  context?: Context,
): Promise<InventoryRegionOutput> => {
  if (context) logger.addContext(context);
  const results = await inventoryRegion(input.region, [...INVENTORY_SERVICES, ...NOT_YET_READ], {
    accountId: required('RESPONDER_ACCOUNT_ID'),
    since: new Date(input.since),
    clientsFor,
  });
  const rawKey = rawInventoryKey(input.incidentId, input.region);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: required('EVIDENCE_BUCKET'),
        Key: rawKey,
        Body: JSON.stringify(results),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    throw classifyAwsError('s3:PutObject', error, `The inventory of ${input.region} was not stored.`);
  }
  const out: InventoryRegionOutput = {
    region: input.region,
    rawKey,
    items: results.reduce((n, r) => n + r.items.length, 0),
    apiCalls: results.reduce((n, r) => n + r.apiCalls, 0),
    services: results.map((r) => ({
      service: r.service,
      complete: r.complete,
      items: r.items.length,
      ...(r.error ? { error: r.error } : {}),
      ...(r.skipped ? { skipped: r.skipped } : {}),
    })),
  };
  logger.info('Region inventoried', { region: input.region, items: out.items, apiCalls: out.apiCalls });
  return out;
};
