import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { classifyAwsError } from '../shared/errors';
import type { PageSink } from './lookup';

/** Where an incident's evidence lives in the evidence bucket. */
export const evidencePrefix = (incidentId: string) => `incidents/${incidentId}`;
export const activityPartsPrefix = (incidentId: string, accessKeyId: string, region: string) =>
  `${evidencePrefix(incidentId)}/activity/${accessKeyId}/${region}/`;
export const activityPartKey = (incidentId: string, accessKeyId: string, region: string, part: number) =>
  `${activityPartsPrefix(incidentId, accessKeyId, region)}part-${String(part).padStart(5, '0')}.jsonl.gz`;
export const activityManifestKey = (incidentId: string) =>
  `${evidencePrefix(incidentId)}/activity/manifest.json`;

/** Each page of CloudTrail records becomes one gzipped JSON-lines object (one record per line). */
export class S3PartSink implements PageSink {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly keyOf: (part: number) => string,
  ) {}

  async write(part: number, records: string[]): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(part),
          Body: gzipSync(`${records.join('\n')}\n`),
          ContentType: 'application/x-ndjson',
        }),
      );
    } catch (error) {
      throw classifyAwsError('s3:PutObject', error, 'The page will be read again.');
    }
  }
}
