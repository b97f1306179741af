import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { evidencePrefix } from '../collect/evidence';
import type { ActivityManifest } from '../pivots/manifest';
import { classifyAwsError } from '../shared/errors';
import { Analyzer } from './analyzer';
import { readStreamBatches } from './read-records';
import {
  type CloudTrailRecord,
  type Severity,
  type Summary,
  TIMELINE_MARKS,
  type VerdictLine,
} from './types';

export interface AnalysisOutput {
  findingsKey: string;
  summaryKey: string;
  /** Every call of the attacker for the report's picture (`{marks, omitted}`). */
  timelineKey: string;
  findings: number;
  bySeverity: Record<Severity, number>;
  /** The answer in order of danger, for the report; small enough for the state. */
  verdict: VerdictLine[];
  /** Records the reader could not parse (counted, not fatal). */
  unreadable: number;
}

export const findingsKey = (incidentId: string) => `${evidencePrefix(incidentId)}/analysis/findings.json`;
export const summaryKey = (incidentId: string) => `${evidencePrefix(incidentId)}/analysis/summary.json`;
export const timelineKey = (incidentId: string) => `${evidencePrefix(incidentId)}/analysis/timeline.json`;

/**
 * Streams every collected record of the incident from the evidence bucket through the analyzer
 * (memory stays flat: one page at a time) and stores the findings and the summary beside them.
 */
export async function analyzeEvidence(
  s3: S3Client,
  bucket: string,
  manifestKey: string,
  responderRoleArns: readonly string[] = [],
): Promise<AnalysisOutput> {
  const manifest = await readJson<ActivityManifest>(s3, bucket, manifestKey);
  const analyzer = new Analyzer({
    keys: manifest.keys.map((k) => k.accessKeyId),
    responderRoleArns,
    timelineCap: TIMELINE_MARKS,
  });
  const unreadable = await forEachEvidenceRecord(s3, bucket, manifest, (record) => analyzer.add(record));
  const { findings, summary, timeline } = analyzer.result();
  const out = {
    findingsKey: findingsKey(manifest.incidentId),
    summaryKey: summaryKey(manifest.incidentId),
    timelineKey: timelineKey(manifest.incidentId),
  };
  await putJson(s3, bucket, out.findingsKey, findings);
  await putJson(s3, bucket, out.summaryKey, summary satisfies Summary);
  await putJson(s3, bucket, out.timelineKey, timeline ?? { marks: [], omitted: 0 });
  return {
    ...out,
    findings: summary.findings.total,
    bySeverity: summary.findings.bySeverity,
    verdict: summary.verdict,
    unreadable,
  };
}

/**
 * Streams every collected record of the manifest from the bucket, page by page (memory stays flat),
 * and returns how many records could not be read.
 */
export async function forEachEvidenceRecord(
  s3: S3Client,
  bucket: string,
  manifest: ActivityManifest,
  fn: (record: CloudTrailRecord) => void,
): Promise<number> {
  let unreadable = 0;
  for (const collection of manifest.collections.filter((c) => c.events > 0)) {
    for (const key of await listKeys(s3, bucket, collection.partsPrefix)) {
      const object = await call('s3:GetObject', () =>
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
      );
      const body = object.Body as AsyncIterable<Uint8Array> | undefined;
      if (!body) continue;
      for await (const batch of readStreamBatches(body, key, { onError: () => unreadable++ })) {
        for (const item of batch) fn(item.record);
      }
    }
  }
  return unreadable;
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await call('s3:ListBucket', () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  // Part numbers are zero-padded, so the name order is the page order.
  return keys.sort();
}

export async function readJson<T>(s3: S3Client, bucket: string, key: string): Promise<T> {
  const out = await call('s3:GetObject', () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  return JSON.parse((await out.Body?.transformToString()) ?? 'null') as T;
}

export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await call('s3:PutObject', () =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    ),
  );
}

async function call<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw classifyAwsError(name, error, 'The analysis will be retried.');
  }
}
