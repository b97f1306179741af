import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { Context } from 'aws-lambda';
import { s3 } from '../shared/clients/s3';
import { required } from '../shared/env';
import { logger, tracer } from '../shared/powertools';
import { collectRegion, type RegionProgress, type RegionTask } from './collect-region';
import { activityPartKey, S3PartSink } from './evidence';

/** One client per region, reused across invocations. Retries are the collector's own (bucket + jitter). */
const clients = new Map<string, CloudTrailClient>();
function cloudTrailIn(region: string): CloudTrailClient {
  let client = clients.get(region);
  if (!client) {
    client = tracer.captureAWSv3Client(new CloudTrailClient({ region, maxAttempts: 1 }));
    clients.set(region, client);
  }
  return client;
}

/** Stop reading with this much time left: a page throttled many times can take ~30 s more, and the cursor must be returned. */
const RESERVE_MS = 90_000;

/** A batch of CloudTrail pages for one region; the workflow calls it again until `progress.done`. */
export const handler = async (
  task: RegionTask,
  context?: Context,
): Promise<RegionTask & { progress: RegionProgress }> => {
  if (context) logger.addContext(context);
  const remaining = context?.getRemainingTimeInMillis() ?? 300_000;
  const bucket = required('EVIDENCE_BUCKET');
  const out = await collectRegion(task, {
    client: cloudTrailIn(task.region),
    sinkFor: (accessKeyId) =>
      new S3PartSink(s3, bucket, (part) => activityPartKey(task.incidentId, accessKeyId, task.region, part)),
    deadline: Date.now() + Math.max(remaining - RESERVE_MS, remaining / 2),
  });
  logger.info('Collected CloudTrail pages', {
    region: task.region,
    done: out.progress.done,
    results: out.progress.results,
    pivots: out.progress.pivots.length,
  });
  return out;
};
