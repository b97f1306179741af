/**
 * The incident's evidence bundle: the report files beside the raw events, findings and inventory the
 * earlier steps stored, and a manifest listing every object so a reader (or a court) can tell it is whole.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { evidencePrefix } from '../collect/evidence';
import { classifyAwsError } from '../shared/errors';
import type { ReportLinks } from './types';

export const reportKey = (incidentId: string) => `${evidencePrefix(incidentId)}/report/report.html`;
export const bundleManifestKey = (incidentId: string) => `${evidencePrefix(incidentId)}/manifest.json`;

/** SigV4 presigned URLs live at most seven days. */
export const MAX_LINK_SECONDS = 7 * 24 * 3600;

export interface BundleObject {
  key: string;
  size: number;
  lastModified?: string;
  /** S3's entity tag: the MD5 of the content for the single-part uploads the responder makes. */
  etag?: string;
}

export interface BundleManifest {
  incidentId: string;
  generatedAt: string;
  bucket: string;
  /** What each folder holds, for whoever opens the bundle without this code. */
  layout: Record<string, string>;
  objects: BundleObject[];
  totalBytes: number;
}

export const BUNDLE_LAYOUT: Record<string, string> = {
  'activity/':
    'CloudTrail records of the key and the keys it minted, per key and region (gzipped JSON lines), and manifest.json',
  'analysis/':
    'findings.json (every finding), summary.json (counts, IPs, user agents), timeline.json (one mark per call)',
  'inventory/': 'raw/<region>.json (what each reader saw), items.json (attributed, with cost and clean-up)',
  'report/': 'report.html (self-contained), email.txt, chatbot.json, support-reply.txt',
};

export function consoleLinks(bucket: string, region: string, incidentId: string): ReportLinks {
  const prefix = `${evidencePrefix(incidentId)}/`;
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  return {
    reportUrl: `https://s3.console.aws.amazon.com/s3/object/${bucket}?${q({ region, prefix: reportKey(incidentId) })}`,
    evidenceConsoleUrl: `https://s3.console.aws.amazon.com/s3/buckets/${bucket}?${q({ region, prefix, showversions: 'false' })}`,
  };
}

/**
 * A presigned GET of the report. It is signed with the function's temporary credentials, so it dies when
 * they do, whatever was asked. Where the credentials say when that is, the expiry stated is the earlier of
 * the two; a Lambda role's session does not say, and the link is then marked as bound to it.
 */
export async function presignReport(
  s3: S3Client,
  bucket: string,
  key: string,
  requestedSeconds: number,
  now: Date,
): Promise<Pick<ReportLinks, 'presignedUrl' | 'presignedExpiresAt' | 'presignedSessionBound'>> {
  const seconds = Math.min(Math.max(60, requestedSeconds), MAX_LINK_SECONDS);
  const credentials = await s3.config.credentials();
  const credentialsEnd = credentials.expiration?.getTime();
  const end = Math.min(now.getTime() + seconds * 1000, credentialsEnd ?? Number.POSITIVE_INFINITY);
  const url = await getSignedUrl(
    s3,
    new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentType: 'text/html; charset=utf-8' }),
    { expiresIn: seconds, signingDate: now },
  );
  const sessionBound = Boolean(credentials.sessionToken) && credentialsEnd === undefined;
  return {
    presignedUrl: url,
    presignedExpiresAt: new Date(end).toISOString(),
    ...(sessionBound ? { presignedSessionBound: true } : {}),
  };
}

export async function putText(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
  contentType: string,
): Promise<number> {
  const bytes = Buffer.from(body, 'utf8');
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType }));
  } catch (error) {
    throw classifyAwsError('s3:PutObject', error, `The report file ${key} was not stored.`);
  }
  return bytes.length;
}

/** Lists every object of the incident and stores the list as its manifest (itself included last). */
export async function writeBundleManifest(
  s3: S3Client,
  bucket: string,
  incidentId: string,
  now: Date,
): Promise<BundleManifest> {
  const prefix = `${evidencePrefix(incidentId)}/`;
  const manifestKey = bundleManifestKey(incidentId);
  const objects: BundleObject[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key === manifestKey) continue;
        objects.push({
          key: o.Key,
          size: o.Size ?? 0,
          lastModified: o.LastModified?.toISOString(),
          ...(o.ETag ? { etag: o.ETag.replaceAll('"', '') } : {}),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw classifyAwsError('s3:ListBucket', error, 'The evidence manifest was not written.');
  }
  objects.sort((a, b) => a.key.localeCompare(b.key));
  const manifest: BundleManifest = {
    incidentId,
    generatedAt: now.toISOString(),
    bucket,
    layout: BUNDLE_LAYOUT,
    objects,
    totalBytes: objects.reduce((sum, o) => sum + o.size, 0),
  };
  await putText(s3, bucket, manifestKey, JSON.stringify(manifest, null, 1), 'application/json');
  return manifest;
}
