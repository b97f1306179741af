/**
 * Analyzer throughput against a bare `JSON.parse` loop on the same generated 200 MB JSON-lines file
 * (issue #5, item 7). Prints:
 *   analyze.records_per_s     reader + analyzer, records per second
 *   analyze.vs_json_parse     that rate over the rate of reading the file and JSON.parse-ing each line
 *   analyze.peak_rss_mb       peak resident memory while analyzing (flat: the file is streamed)
 * Target: vs_json_parse >= 0.5. The file goes to os.tmpdir() and is deleted afterwards.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Analyzer } from '../../lambdas/analyze/analyzer';
import { readRecordBatches } from '../../lambdas/analyze/read-records';
import type { CloudTrailRecord } from '../../lambdas/analyze/types';
import { report } from './stats';

/** 200 MB as the issue asks; `BENCH_ANALYZE_MB` changes it (to check that memory stays flat). */
const TARGET_BYTES = Number(process.env.BENCH_ANALYZE_MB ?? 200) * 1024 * 1024;
const ACCOUNT = '111122223333';
const KEY = 'AKIA2EXAMPLEBENCH234';

/** Small deterministic PRNG (mulberry32), so every run reads the same file. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-north-1', 'ap-southeast-1', 'sa-east-1'];
/**
 * The mix of a scanner-driven leaked-key history: mostly reads the catalog does not flag, some recon
 * the catalog does flag, a few writes; a quarter of the calls denied (quarantine policy).
 */
const GENERIC_READS: [string, string][] = [
  ['ec2.amazonaws.com', 'DescribeInstances'],
  ['ec2.amazonaws.com', 'DescribeRegions'],
  ['ec2.amazonaws.com', 'DescribeSecurityGroups'],
  ['ec2.amazonaws.com', 'DescribeVolumes'],
  ['ec2.amazonaws.com', 'DescribeSnapshots'],
  ['lambda.amazonaws.com', 'ListFunctions20150331'],
  ['kms.amazonaws.com', 'Decrypt'],
  ['monitoring.amazonaws.com', 'GetMetricData'],
  ['logs.amazonaws.com', 'DescribeLogGroups'],
  ['dynamodb.amazonaws.com', 'ListTables'],
];
const FLAGGED_READS: [string, string][] = [
  ['iam.amazonaws.com', 'ListUsers'],
  ['sts.amazonaws.com', 'GetCallerIdentity'],
  ['ses.amazonaws.com', 'GetSendQuota'],
  ['s3.amazonaws.com', 'ListBuckets'],
];
const WRITES: [string, string][] = [
  ['ec2.amazonaws.com', 'RunInstances'],
  ['iam.amazonaws.com', 'CreateUser'],
  ['iam.amazonaws.com', 'AttachUserPolicy'],
  ['ec2.amazonaws.com', 'CreateTags'],
];

function pick<T>(list: T[], next: () => number): T {
  return list[Math.floor(next() * list.length)];
}

function makeRecord(next: () => number, i: number): CloudTrailRecord {
  const roll = next();
  const readOnly = roll < 0.98;
  const [eventSource, eventName] =
    roll < 0.92 ? pick(GENERIC_READS, next) : readOnly ? pick(FLAGGED_READS, next) : pick(WRITES, next);
  const denied = next() < 0.25;
  const second = Math.floor(i / 20);
  const time = new Date(Date.UTC(2025, 1, 12) + second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDA2EXAMPLEBENCHUSR',
      arn: `arn:aws:iam::${ACCOUNT}:user/ci-deployer`,
      accountId: ACCOUNT,
      accessKeyId: KEY,
      userName: 'ci-deployer',
    },
    eventTime: time,
    eventSource,
    eventName,
    awsRegion: REGIONS[Math.floor(next() * REGIONS.length)],
    sourceIPAddress: `203.0.113.${Math.floor(next() * 250)}`,
    userAgent:
      next() < 0.5 ? 'python-requests/2.31.0' : 'aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0',
    ...(denied
      ? {
          errorCode: 'AccessDenied',
          errorMessage: `User: arn:aws:iam::${ACCOUNT}:user/ci-deployer is not authorized`,
        }
      : {}),
    requestParameters:
      eventName === 'RunInstances'
        ? {
            instanceType: 'g4dn.xlarge',
            instancesSet: { items: [{ imageId: 'ami-0example', minCount: 1, maxCount: 1 }] },
          }
        : eventName === 'AttachUserPolicy'
          ? { userName: 'ci-deployer', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }
          : {
              maxResults: 1000,
              filterSet: {
                items: [{ name: 'instance-state-name', valueSet: { items: [{ value: 'running' }] } }],
              },
            },
    responseElements: null,
    requestID: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    eventID: `${(i * 7919).toString(16).padStart(8, '0')}-1111-4111-8111-111111111111`,
    readOnly,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: `${eventSource.split('.')[0]}.us-east-1.amazonaws.com`,
    },
  };
}

async function generate(file: string): Promise<number> {
  const out = createWriteStream(file);
  const next = random(42);
  let bytes = 0;
  let records = 0;
  while (bytes < TARGET_BYTES) {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(JSON.stringify(makeRecord(next, records++)));
    const chunk = `${lines.join('\n')}\n`;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return records;
}

/** The baseline: stream the file, split lines, JSON.parse each one, nothing else. */
async function jsonParseLoop(file: string): Promise<number> {
  let pending = '';
  let records = 0;
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const data = pending + chunk;
    let start = 0;
    for (let end = data.indexOf('\n'); end >= 0; end = data.indexOf('\n', start)) {
      if (end > start) {
        JSON.parse(data.slice(start, end));
        records++;
      }
      start = end + 1;
    }
    pending = data.slice(start);
  }
  return records;
}

/** Highest resident memory seen while the analyzer ran (sampled once per batch, i.e. per MB read). */
let peakRss = 0;

async function analyzeFile(file: string): Promise<{ records: number; findings: number }> {
  const analyzer = new Analyzer({ keys: [KEY] });
  let records = 0;
  for await (const batch of readRecordBatches([file])) {
    for (const item of batch) analyzer.add(item.record);
    records += batch.length;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
  const findings = analyzer.result().summary.findings.total;
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return { records, findings };
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = process.hrtime.bigint();
  const value = await run();
  return [value, Number(process.hrtime.bigint() - started) / 1e9];
}

export async function benchAnalyze(): Promise<void> {
  const file = path.join(os.tmpdir(), `exposed-key-responder-bench-${process.pid}.jsonl`);
  try {
    const generated = await generate(file);
    // Alternate the two paths and keep the best run of each: the file is then in the OS page cache
    // for both, and a busy machine disturbs both alike.
    const baseline: number[] = [];
    const analyzed: number[] = [];
    let findings = 0;
    for (let round = 0; round < 3; round++) {
      const [parsed, parseSeconds] = await timed(() => jsonParseLoop(file));
      baseline.push(parsed / parseSeconds);
      const [result, analyzeSeconds] = await timed(() => analyzeFile(file));
      if (result.records !== generated || parsed !== generated) {
        throw new Error(`read ${result.records} and ${parsed} records of ${generated}`);
      }
      analyzed.push(result.records / analyzeSeconds);
      findings = result.findings;
    }
    const rate = Math.max(...analyzed);
    report('analyze.records', generated);
    report('analyze.findings', findings);
    report('analyze.json_parse_records_per_s', Math.round(Math.max(...baseline)));
    report('analyze.records_per_s', Math.round(rate));
    report('analyze.vs_json_parse', rate / Math.max(...baseline), 2);
    report('analyze.peak_rss_mb', peakRss / 1024 / 1024, 0);
  } finally {
    rmSync(file, { force: true });
  }
}

if (require.main === module) {
  benchAnalyze().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
