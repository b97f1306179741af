import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { RegionProgress, RegionTask } from '../collect/collect-region';
import { activityManifestKey } from '../collect/evidence';
import type { InvestigationPlan } from '../plan/plan-investigation';
import { s3 } from '../shared/clients/s3';
import { required } from '../shared/env';
import { classifyAwsError } from '../shared/errors';
import { logger } from '../shared/powertools';
import { type ActivityManifest, emptyManifest, mergeRound, type RoleAssumed } from './manifest';

export interface FollowPivotsInput {
  plan: InvestigationPlan;
  results: (RegionTask & { progress: RegionProgress })[];
}

/** What the state carries: the manifest's key and counts, never the events (256 KB state limit). */
export interface ActivitySummary {
  manifestKey: string;
  events: number;
  keys: number;
  pivotKeys: string[];
  rolesAssumed: RoleAssumed[];
  regions: { region: string; events: number; complete: boolean }[];
  truncated: boolean;
}

export interface FollowPivotsOutput {
  plan: InvestigationPlan;
  activity: ActivitySummary;
  /** True when the next round has keys to collect. */
  more: boolean;
}

/** After each round: record it in the manifest and queue the keys the attacker minted. */
export const handler = async (input: FollowPivotsInput, context?: Context): Promise<FollowPivotsOutput> => {
  if (context) logger.addContext(context);
  const bucket = required('EVIDENCE_BUCKET');
  const { plan } = input;
  const key = activityManifestKey(plan.incidentId);
  const previous = plan.round === 1 ? emptyManifest(plan) : await readManifest(bucket, key);
  const { manifest, nextKeys } = mergeRound(previous, plan, input.results);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(manifest, null, 2),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    throw classifyAwsError('s3:PutObject', error, 'The activity manifest was not written.');
  }
  logger.info('Round recorded', { round: plan.round, events: manifest.totals.events, nextKeys });
  return {
    plan: { ...plan, round: plan.round + 1, keys: nextKeys, seen: [...plan.seen, ...nextKeys] },
    activity: {
      manifestKey: key,
      events: manifest.totals.events,
      keys: manifest.totals.keys,
      pivotKeys: manifest.pivotKeys.map((p) => p.accessKeyId).slice(0, 50),
      rolesAssumed: manifest.rolesAssumed.slice(0, 50),
      regions: manifest.regions.map((r) => ({ region: r.region, events: r.events, complete: r.complete })),
      truncated: manifest.truncated,
    },
    more: nextKeys.length > 0,
  };
};

async function readManifest(bucket: string, key: string): Promise<ActivityManifest> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await (out.Body?.transformToString() ?? Promise.resolve('{}'))) as ActivityManifest;
  } catch (error) {
    throw classifyAwsError(
      's3:GetObject',
      error,
      'The activity manifest of the previous round could not be read.',
    );
  }
}
