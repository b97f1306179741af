import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { AnalysisOutput } from '../../lambdas/analyze/analyze-evidence';
import type { AttributedInventory } from '../../lambdas/attribute/attribute-inventory';
import type { InventoryItem } from '../../lambdas/inventory/types';
import type { ActivityManifest } from '../../lambdas/pivots/manifest';
import { healthEvent } from '../../scripts/local/events';
import { type Harness, LOCAL_ACCOUNT_ID, startHarness } from './harness';

let h: Harness;
const s3 = () => new S3Client({});

beforeAll(async () => {
  h = await startHarness({ revokeAssumedRoleSessions: true }, { managedPolicies: true });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

/** Every record in the incident's evidence, read back from the bucket part by part. */
async function evidenceRecords(
  incidentId: string,
): Promise<{ eventID: string; userIdentity: { accessKeyId: string } }[]> {
  const bucket = process.env.EVIDENCE_BUCKET ?? '';
  const listed = await s3().send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: `incidents/${incidentId}/activity/` }),
  );
  const records = [];
  for (const object of listed.Contents ?? []) {
    if (!object.Key?.endsWith('.jsonl.gz')) continue;
    const out = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
    const text = gunzipSync(
      Buffer.from(await (out.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array()))),
    ).toString();
    for (const line of text.split('\n').filter(Boolean)) records.push(JSON.parse(line));
  }
  return records;
}

async function manifest(key: string): Promise<ActivityManifest> {
  const out = await s3().send(new GetObjectCommand({ Bucket: process.env.EVIDENCE_BUCKET ?? '', Key: key }));
  return JSON.parse((await out.Body?.transformToString()) ?? '{}');
}

function activityOf(outcome: { taskOutputs: Record<string, unknown[]> } | undefined) {
  const follows = outcome?.taskOutputs['Follow the pivots'] ?? [];
  return (follows[follows.length - 1] as { activity: { manifestKey: string } }).activity;
}

it('collects every event of the leaked key and of the keys it minted, through throttling, once each', async () => {
  const { user, run } = await h.playDefaultScenario('investigated');
  h.cloudTrail.injectThrottles('us-east-1', 3);
  h.cloudTrail.injectThrottles('eu-west-1', 2);
  const throttledBefore = h.cloudTrail.throttled();

  const outcome = await h.responder.respond(
    healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
  );

  expect(outcome?.status).toBe('SUCCEEDED');
  expect(h.cloudTrail.throttled() - throttledBefore).toBeGreaterThanOrEqual(5);
  const intake = outcome?.taskOutputs['Read the event'][0] as {
    intake: { incident: { incidentId: string } };
  };
  const incidentId = intake.intake.incident.incidentId;
  const collected = await evidenceRecords(incidentId);
  const ids = collected.map((r) => r.eventID);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids)).toEqual(new Set(run.records.map((r) => r.eventID)));

  const m = await manifest(activityOf(outcome).manifestKey);
  const session = run.credentials.session;
  const backdoor = run.credentials.backdoor;
  expect(m.pivotKeys.map((p) => p.accessKeyId).sort()).toEqual([backdoor, session].sort());
  expect(m.keys.map((k) => [k.accessKeyId, k.source])).toEqual(
    expect.arrayContaining([
      [user.victimKey, 'exposed'],
      [session, 'pivot'],
      [backdoor, 'pivot'],
    ]),
  );
  expect(collected.filter((r) => r.userIdentity.accessKeyId === session).length).toBeGreaterThan(0);
  expect(m.regions.every((r) => r.complete)).toBe(true);
  expect(m.regions[0].region).toBe('us-east-1');
  expect(m.totals.events).toBe(run.records.length);

  // The analysis read the same evidence back and says, in order of danger, what was done.
  const analyzed = outcome?.taskOutputs['Analyze the activity'] ?? [];
  const { analysis } = analyzed[0] as { analysis: AnalysisOutput };
  const answer = (category: string) => analysis.verdict.find((v) => v.category === category)?.answer;
  expect(answer('persistence')).toBe('yes');
  expect(answer('compute-hijacking')).toBe('yes');
  expect(analysis.bySeverity.critical).toBeGreaterThan(0);
  const findings = JSON.parse(
    (await (
      await s3().send(
        new GetObjectCommand({ Bucket: process.env.EVIDENCE_BUCKET ?? '', Key: analysis.findingsKey }),
      )
    ).Body?.transformToString()) ?? '[]',
  ) as { eventName: string; failed: boolean }[];
  expect(findings.find((f) => f.eventName === 'StopLogging')).toMatchObject({ failed: true });
  expect(findings.some((f) => f.eventName === 'AttachUserPolicy')).toBe(true);

  // The inventory finds what the scenario left, in every region it used, attributed to the calls that made it.
  const attributed = outcome?.taskOutputs['Attribute the inventory'] ?? [];
  const { inventory } = attributed[0] as { inventory: AttributedInventory };
  const items = JSON.parse(
    (await (
      await s3().send(
        new GetObjectCommand({ Bucket: process.env.EVIDENCE_BUCKET ?? '', Key: inventory.itemsKey }),
      )
    ).Body?.transformToString()) ?? '[]',
  ) as InventoryItem[];
  const launched = run.records.filter((r) => r.eventName === 'RunInstances' && !r.errorCode);
  const launchedIds = launched.flatMap((r) =>
    (
      (r.responseElements as { instancesSet?: { items?: { instanceId: string }[] } } | null)?.instancesSet
        ?.items ?? []
    ).map((i) => i.instanceId),
  );
  const instances = items.filter((i) => i.type === 'instance' && i.service === 'ec2');
  expect(instances.map((i) => i.id).sort()).toEqual([...launchedIds].sort());
  for (const instance of instances) {
    expect(instance).toMatchObject({
      createdByKey: true,
      evidenceEventId: expect.any(String),
      cleanup: expect.stringContaining('terminate-instances'),
    });
    expect(instance.estimatedHourlyUsd).toBeGreaterThan(0);
  }
  expect(new Set(instances.map((i) => i.region))).toEqual(
    new Set(['us-east-1', 'eu-west-1', 'ap-southeast-1', 'us-west-2']),
  );
  expect(items.find((i) => i.type === 'user' && i.id === 'support-admin')).toMatchObject({
    createdByKey: true,
  });
  expect(items.find((i) => i.service === 'lightsail' && i.id === 'wp-prod-1')).toMatchObject({
    createdByKey: true,
    region: 'eu-central-1',
  });
  expect(items.find((i) => i.type === 'key-pair' && i.id === 'xmr-node')).toMatchObject({
    createdByKey: true,
  });
  expect(inventory.estimatedHourlyUsd).toBeGreaterThan(5);
}, 120_000);

it('records a region it cannot read as incomplete, with the reason, and reads the others', async () => {
  const { user, run } = await h.playDefaultScenario('region-denied');
  h.cloudTrail.failRegion('ap-southeast-1', {
    code: 'OptInRequired',
    message: 'The AWS Access Key Id needs a subscription for the service',
    status: 403,
  });
  try {
    const outcome = await h.responder.respond(
      healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
    );

    expect(outcome?.status).toBe('SUCCEEDED');
    const m = await manifest(activityOf(outcome).manifestKey);
    const region = m.regions.find((r) => r.region === 'ap-southeast-1');
    expect(region).toMatchObject({ complete: false, errors: [expect.stringContaining('OptInRequired')] });
    expect(m.regions.filter((r) => r.region !== 'ap-southeast-1').every((r) => r.complete)).toBe(true);
    const readable = run.records.filter((r) => r.awsRegion !== 'ap-southeast-1');
    expect(m.totals.events).toBe(readable.length);
  } finally {
    h.cloudTrail.failRegion('ap-southeast-1', undefined);
  }
}, 120_000);
