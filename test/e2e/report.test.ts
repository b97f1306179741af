import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { InventoryItem } from '../../lambdas/inventory/types';
import type { BundleManifest } from '../../lambdas/report/evidence-bundle';
import type { ReportOutput, ReportStepInput } from '../../lambdas/report/handler';
import { renderTimeline } from '../../scripts/browser/chromium';
import { healthEvent } from '../../scripts/local/events';
import type { ExecutionOutcome } from '../../scripts/local/local-responder';
import { parseScenario, runScenario } from '../../scripts/scenario/scenario';
import { EMAIL_SECTION_HEADINGS } from '../fixtures/report/report-input';
import { type Harness, LOCAL_ACCOUNT_ID, startHarness } from './harness';

/** Every Region the default scenario touches, and one it does not. */
const REGIONS = 'us-east-1,us-west-2,eu-west-1,eu-central-1,ap-southeast-1,sa-east-1';

let h: Harness;
const s3 = new S3Client({});
const bucket = () => process.env.EVIDENCE_BUCKET ?? '';

beforeAll(async () => {
  h = await startHarness({ regions: REGIONS }, { managedPolicies: true });
}, 120_000);

afterAll(async () => {
  s3.destroy();
  await h?.stop();
});

async function attackedAndReported(userName: string) {
  const { user } = await h.playDefaultScenario(userName);
  const event = healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID, userName });
  const outcome = (await h.responder.respond(event)) as ExecutionOutcome;
  return { user, event, outcome };
}

function reportOf(outcome: ExecutionOutcome): { state: Record<string, unknown>; report: ReportOutput } {
  const state = outcome.taskOutputs['Send the report']?.[0] as { report: ReportOutput } & Record<
    string,
    unknown
  >;
  return { state, report: state.report };
}

async function text(key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

describe('the full report', () => {
  let first: Awaited<ReturnType<typeof attackedAndReported>>;

  beforeAll(async () => {
    first = await attackedAndReported('report-victim');
  }, 120_000);

  it('arrives once, after the containment alert, with every section in the e-mail text', async () => {
    // Act
    const alerts = await h.responder.readAlerts();
    const reports = await h.responder.readReports();

    // Assert
    expect(first.outcome.status).toBe('SUCCEEDED');
    expect(alerts.map((a) => a.kind)).toEqual(['containment']);
    expect(reports).toHaveLength(1);
    const [email] = reports;
    expect(email.subject).toMatch(
      new RegExp(
        `^\\[CRITICAL\\]\\[CONTAINED\\] Report: ${first.user.victimKey} in ${LOCAL_ACCOUNT_ID}, IAM user report-victim`,
      ),
    );
    expect(email.message).toMatch(new RegExp(`^KEY ${first.user.victimKey} .*DEAD, deactivated`, 'm'));
    expect(email.message).toMatch(/^ATTACKER: YES - persistence/m);
    expect(email.message).toMatch(/^STILL THERE: \d+ resources made or changed by the key, about \$\d/m);
    for (const section of EMAIL_SECTION_HEADINGS) expect(email.message).toContain(section);
    expect(email.message).toContain('S3 object reads cannot be ruled out');
    expect(email.message).toMatch(/aws ec2 terminate-instances --region eu-west-1 --instance-ids i-/);
    expect(Buffer.byteLength(email.message)).toBeLessThan(64 * 1024);
  });

  it('stores an HTML report whose timeline has one mark per call the key and its pivots made', async () => {
    // Arrange
    const { state, report } = reportOf(first.outcome);
    const analysis = state.analysis as { timelineKey: string };
    const marks = (JSON.parse(await text(analysis.timelineKey)) as { marks: { eventId: string }[] }).marks;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ekr-e2e-report-')), 'report.html');
    writeFileSync(file, await text(report.reportKey ?? ''));

    // Act
    const rendered = await renderTimeline(file);

    // Assert
    expect(marks.length).toBeGreaterThanOrEqual(20);
    expect(rendered.marks.map((m) => m.eventId).sort()).toEqual(marks.map((m) => m.eventId).sort());
    expect(rendered.marks.every((m) => m.visible && m.inside)).toBe(true);
    expect(rendered.containmentLines).toBe(1);
    expect(rendered.externalRequests).toEqual([]);
  }, 60_000);

  it('keeps an evidence bundle whose manifest lists raw events, findings, inventory and the report', async () => {
    // Arrange
    const { report } = reportOf(first.outcome);

    // Act
    const manifest = JSON.parse(await text(report.manifestKey ?? '')) as BundleManifest;

    // Assert
    const keys = manifest.objects.map((o) => o.key.replace(/^incidents\/[^/]+\//, ''));
    expect(keys).toEqual(
      expect.arrayContaining([
        'activity/manifest.json',
        'analysis/findings.json',
        'analysis/summary.json',
        'analysis/timeline.json',
        'inventory/items.json',
        'inventory/raw/eu-west-1.json',
        'report/report.html',
        'report/email.txt',
        'report/chatbot.json',
        'report/support-reply.txt',
      ]),
    );
    expect(keys.some((k) => /^activity\/AKIA[A-Z0-9]+\/us-east-1\/part-\d{5}\.jsonl\.gz$/.test(k))).toBe(
      true,
    );
    for (const object of manifest.objects) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket(), Key: object.key }));
      expect(head.ContentLength).toBe(object.size);
    }
    expect(report.evidenceObjects).toBe(manifest.objects.length + 1);
  });

  it('links to the report with a presigned URL that serves it, and says when it expires', async () => {
    // Arrange
    const { report } = reportOf(first.outcome);
    const email = await text(report.reportKey?.replace('report.html', 'email.txt') ?? '');
    const line = email.split('\n').find((l) => l.startsWith('Download the report')) ?? '';
    const url = line.slice(line.indexOf('http'));

    // Act
    const response = await fetch(url);

    // Assert
    expect(line).toMatch(/anyone with this link can read it, expires \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(await text(report.reportKey ?? ''));
  });

  it('is not sent again when the step is retried or the event is delivered again', async () => {
    // Arrange
    const { state, report } = reportOf(first.outcome);
    const { report: _sent, ...before } = state;
    const { handler } = require('../../lambdas/report/handler') as {
      handler: (input: ReportStepInput) => Promise<ReportOutput>;
    };
    await h.responder.readReports();

    // Act
    const retried = await handler({ state: before as unknown as ReportStepInput['state'] });
    const again = await h.responder.respond(first.event);

    // Assert
    expect(retried.messageId).toBe(report.messageId);
    expect(again?.status).toBe('SUCCEEDED');
    expect(await h.responder.readReports()).toEqual([]);
  });
});

describe('the report after a failed investigation step', () => {
  it('still goes out, says what is missing and why, and the execution fails', async () => {
    // Arrange
    await h.responder.readAlerts();
    await h.responder.readReports();
    const restore = h.responder.failState(
      'Analyze the activity',
      Object.assign(new Error('the analyzer ran out of memory'), { name: 'AnalyzerCrashed' }),
    );

    // Act
    let outcome: ExecutionOutcome;
    try {
      outcome = (await attackedAndReported('report-victim-2')).outcome;
    } finally {
      restore();
    }
    const reports = await h.responder.readReports();
    const alerts = await h.responder.readAlerts();

    // Assert
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('InvestigationIncomplete');
    expect(alerts.map((a) => a.kind)).toEqual(['containment']);
    expect(reports).toHaveLength(1);
    const [email] = reports;
    expect(email.message).toMatch(/^INCOMPLETE: Analysis missing/m);
    expect(email.message).toContain('AnalyzerCrashed: the analyzer ran out of memory');
    // What did not depend on the analysis is still there.
    expect(email.message).toMatch(/DEAD, deactivated/);
    expect(email.message).toContain('== WHAT THE ATTACKER LEFT');
  }, 120_000);
});

describe('what existed before the leak', () => {
  it('is not reported, while what the key made right after is, with its creating event', async () => {
    // Arrange: the account's own resources, then (two seconds later) a quick attack with the leaked key.
    const owner = await h.seed('long-standing-owner');
    const ec2 = new EC2Client({ region: 'eu-west-1' });
    const iam = new IAMClient({ region: 'us-east-1' });
    const ownInstance = (
      await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-0c7217cdde317cfec',
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
        }),
      )
    ).Instances?.[0]?.InstanceId;
    await iam.send(new CreateUserCommand({ UserName: 'ops-admin' }));
    await sleep(2100);
    const attack = parseScenario({
      name: 'quick',
      steps: [
        {
          at: '+0s',
          region: 'eu-west-1',
          service: 'ec2',
          action: 'RunInstances',
          params: { ImageId: 'ami-0c7217cdde317cfec', InstanceType: 'g4dn.xlarge', MinCount: 1, MaxCount: 1 },
        },
        {
          at: '+1s',
          region: 'us-east-1',
          service: 'iam',
          action: 'CreateUser',
          params: { UserName: 'quick-backdoor' },
        },
      ],
    });
    const start = new Date();
    const run = await runScenario(attack, {
      endpoint: h.moto.endpoint,
      cloudTrail: h.cloudTrail,
      lightsail: h.lightsail,
      accountId: LOCAL_ACCOUNT_ID,
      leaked: { accessKeyId: owner.victimKey, secretAccessKey: 'e2e', userName: owner.userName },
      start,
    });
    await sleep(1500); // every record's eventTime in the past, where LookupEvents shows it
    // AWS saw the key in public just after the attack began (the exposure starts at the earlier of the two).
    const event = healthEvent({
      accessKeyIds: [owner.victimKey],
      accountId: LOCAL_ACCOUNT_ID,
      userName: owner.userName,
      detectedAt: new Date(start.getTime() + 1000),
    });

    // Act
    const outcome = (await h.responder.respond(event)) as ExecutionOutcome;

    // Assert
    const { state } = reportOf(outcome);
    const items = JSON.parse(
      await text((state.inventory as { itemsKey: string }).itemsKey),
    ) as InventoryItem[];
    const ids = items.map((i) => i.id);
    expect(ownInstance).toMatch(/^i-/);
    expect(ids).not.toContain(ownInstance);
    expect(ids).not.toContain('ops-admin');
    expect(ids).not.toContain(owner.userName);
    expect(ids).not.toContain(owner.secondKey);
    const theirs = items.filter((i) => i.createdByKey === true);
    expect(theirs.map((i) => `${i.type} ${i.region}`).sort()).toEqual(
      expect.arrayContaining(['instance eu-west-1', 'user global']),
    );
    const launch = run.steps[0];
    expect(theirs.find((i) => i.type === 'instance')?.evidenceEventId).toBe(launch.eventId);
    ec2.destroy();
    iam.destroy();
  }, 120_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
