import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import type { AnalysisOutput } from '../../lambdas/analyze/analyze-evidence';
import type { AttributedInventory } from '../../lambdas/attribute/attribute-inventory';
import type { InventoryItem } from '../../lambdas/inventory/types';
import type { ActivitySummary } from '../../lambdas/pivots/handler';
import type { ReportOutput } from '../../lambdas/report/handler';
import type { ContainmentResult } from '../../lambdas/shared/types';
import { screenshotReport } from '../browser/chromium';
import { ensureMotoInstalled } from '../emulator/ensure-moto';
import { startMoto } from '../emulator/moto';
import { fillPlaceholders, healthEvent } from '../local/events';
import {
  type Alert,
  type ExecutionOutcome,
  LOCAL_ACCOUNT_ID,
  LocalResponder,
  type StateStep,
} from '../local/local-responder';
import { keyStatuses, seedUserWithTwoKeys } from '../local/seed';
import {
  DEFAULT_SCENARIO_FILE,
  loadScenario,
  runScenario,
  type Scenario,
  type ScenarioRun,
  scenarioDurationMs,
} from '../scenario/scenario';
import { startCloudTrailStandIn } from '../standins/cloudtrail';
import { startLightsailStandIn } from '../standins/lightsail';

export interface DrillOptions {
  /** A file holding the event to send instead of the default Health event. */
  eventFile?: string;
  /** The attacker's steps before the leak is reported: a scenario file, the default one, or none. */
  scenario?: string | 'default' | 'none';
  /** CDK context for the synthesized stack (mode, loginProfile, ...). */
  context?: Record<string, unknown>;
  onStep?: (step: StateStep) => void;
  log?: (line: string) => void;
  /** Where report.html (and email.txt, report.png) are written. @default ./drill-output */
  outDir?: string;
  /** Also save report.png, the report's first screen in headless Chromium. */
  screenshot?: boolean;
}

export interface DrillKey {
  role: 'victim' | 'second';
  accessKeyId: string;
  userName: string;
  statusBefore: string;
  statusAfter: string;
  decision: string | null;
  actions: ContainmentResult['actions'];
}

export interface DrillReport {
  incidentId: string | null;
  /** False when no rule of the stack matched the event: the workflow never started. */
  started: boolean;
  execution: { status: ExecutionOutcome['status'] | 'NOT_STARTED'; error?: string; cause?: string };
  keys: DrillKey[];
  alerts: Alert[];
  /** The full report as its SQS subscriber got it (the e-mail text), once per incident. */
  reports: Alert[];
  /** The HTML report, copied from the emulated evidence bucket into `outDir`. */
  report: {
    path: string;
    sizeBytes: number;
    emailPath: string | null;
    emailBytes: number | null;
    screenshot: string | null;
    /** Objects in the incident's evidence bundle (its manifest included). */
    evidenceObjects: number | null;
    missing: string[];
  } | null;
  /** What the attacker did before the leak was reported (the scenario), in the emulator. */
  scenario: { name: string; steps: number; failedSteps: number } | null;
  activity: {
    regions: { region: string; events: number; complete: boolean }[];
    pivotKeys: string[];
    rolesAssumed: { roleArn: string; sessionKey: string; assumedWith: string }[];
    events: number;
    manifestKey: string | null;
  } | null;
  /** What the analyzer made of the activity (findings are in the evidence bucket). */
  analysis: {
    findings: number;
    bySeverity: Record<string, number>;
    verdict: {
      category: string;
      question: string;
      answer: string;
      findings: number;
      highestSeverity?: string;
    }[];
  } | null;
  /** What the attacker left behind, attributed (the full list is in the evidence bucket). */
  inventory:
    | {
        service: string;
        type: string;
        id: string;
        region: string;
        createdByKey: boolean | 'unknown';
        evidenceEventId: string | null;
        estimatedHourlyUsd: number | null;
        cleanup: string;
      }[]
    | null;
  timings: { containmentMs: number | null; workflowMs: number | null };
}

export const DRILL_USER = 'drill-victim';
export const CANARY_TAG = 'exposed-key-responder:canary';

/**
 * The drill: an emulated account with a victim user holding two keys, a leaked-key event for one
 * of them sent through the stack's real rules and workflow, and what came of it.
 */
export async function runDrill(options: DrillOptions = {}): Promise<DrillReport> {
  const log = options.log ?? (() => undefined);
  ensureMotoInstalled(log);
  const scenario = loadDrillScenario(options.scenario ?? 'default');
  log('Starting the AWS emulator and the CloudTrail and Lightsail stand-ins...');
  // Managed policies let the attacker attach AdministratorAccess, as it would in AWS.
  const moto = await startMoto({ env: { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } });
  const cloudTrail = await startCloudTrailStandIn({ upstream: moto.endpoint });
  const lightsail = await startLightsailStandIn();
  try {
    log(`Emulator up at ${moto.endpoint}; synthesizing the stack and provisioning it...`);
    const responder = await LocalResponder.create({
      endpoint: moto.endpoint,
      cloudTrailEndpoint: cloudTrail.endpoint,
      lightsailEndpoint: lightsail.endpoint,
      context: { drills: true, ...options.context },
    });
    const iam = new IAMClient({});
    const seeded = await seedUserWithTwoKeys(iam, DRILL_USER, { [CANARY_TAG]: 'true' });
    log(
      `Seeded account ${LOCAL_ACCOUNT_ID}: user ${seeded.userName} with keys ${seeded.victimKey} (victim) and ${seeded.secondKey}.`,
    );
    const before = await keyStatuses(iam, seeded.userName);

    let scenarioRun: ScenarioRun | undefined;
    if (scenario) {
      log(
        `The attacker plays "${scenario.name ?? 'scenario'}" (${scenario.steps.length} steps) with ${seeded.victimKey}...`,
      );
      scenarioRun = await runScenario(scenario, {
        endpoint: moto.endpoint,
        cloudTrail,
        lightsail,
        accountId: LOCAL_ACCOUNT_ID,
        leaked: { accessKeyId: seeded.victimKey, secretAccessKey: 'drill-secret', userName: seeded.userName },
        // The attack happened before AWS reported the leak; the stand-in hides events from the future.
        start: new Date(Date.now() - scenarioDurationMs(scenario) - 60_000),
      });
    }

    const event = options.eventFile
      ? readEventFile(options.eventFile, {
          VICTIM_KEY: seeded.victimKey,
          SECOND_KEY: seeded.secondKey,
          ACCOUNT_ID: LOCAL_ACCOUNT_ID,
        })
      : healthEvent({
          accessKeyIds: [seeded.victimKey],
          accountId: LOCAL_ACCOUNT_ID,
          userName: seeded.userName,
        });
    log(
      `Sending ${String(event.source)} ${String((event.detail as { eventTypeCode?: string } | undefined)?.eventTypeCode ?? '')} to the event bus...`,
    );

    const outcome = await responder.respond(event, options.onStep);
    const after = await keyStatuses(iam, seeded.userName);
    const alerts = await responder.readAlerts();
    const reports = await responder.readReports();

    const results = (outcome?.taskOutputs['Contain the key'] ?? []) as ContainmentResult[];
    const intake = outcome?.taskOutputs['Read the event']?.[0] as
      | { intake?: { incident?: { incidentId?: string } } }
      | undefined;
    const key = (role: DrillKey['role'], accessKeyId: string): DrillKey => {
      const result = results.find((r) => r.accessKeyId === accessKeyId);
      return {
        role,
        accessKeyId,
        userName: seeded.userName,
        statusBefore: before[accessKeyId] ?? 'missing',
        statusAfter: after[accessKeyId] ?? 'missing',
        decision: result?.decision ?? null,
        actions: result?.actions ?? [],
      };
    };
    const victim = results.find((r) => r.accessKeyId === seeded.victimKey);
    const follows = outcome?.taskOutputs['Follow the pivots'] ?? [];
    const activity = (follows[follows.length - 1] as { activity?: ActivitySummary } | undefined)?.activity;
    const attributed = outcome?.taskOutputs['Attribute the inventory']?.[0] as
      | { inventory?: AttributedInventory }
      | undefined;
    const inventory = attributed?.inventory ? await readInventory(attributed.inventory.itemsKey) : null;
    const analysis = outcome?.taskOutputs['Analyze the activity']?.[0] as
      | { analysis?: AnalysisOutput }
      | undefined;
    const sent = (outcome?.taskOutputs['Send the report']?.[0] as { report?: ReportOutput } | undefined)
      ?.report;
    const report = sent?.reportKey
      ? await saveReport(sent, reports[0], options.outDir ?? 'drill-output', options.screenshot ?? false, log)
      : null;
    return {
      incidentId: intake?.intake?.incident?.incidentId ?? null,
      started: outcome !== undefined,
      execution: outcome
        ? { status: outcome.status, ...(outcome.error ? { error: outcome.error, cause: outcome.cause } : {}) }
        : { status: 'NOT_STARTED' },
      keys: [key('victim', seeded.victimKey), key('second', seeded.secondKey)],
      alerts,
      reports,
      report,
      scenario:
        scenario && scenarioRun
          ? {
              name: scenario.name ?? 'scenario',
              steps: scenarioRun.steps.length,
              failedSteps: scenarioRun.steps.filter((step) => !step.ok).length,
            }
          : null,
      activity: activity
        ? {
            regions: activity.regions,
            pivotKeys: activity.pivotKeys,
            rolesAssumed: activity.rolesAssumed.map(({ roleArn, sessionKey, assumedWith }) => ({
              roleArn,
              sessionKey,
              assumedWith,
            })),
            events: activity.events,
            manifestKey: activity.manifestKey,
          }
        : null,
      analysis: analysis?.analysis
        ? {
            findings: analysis.analysis.findings,
            bySeverity: analysis.analysis.bySeverity,
            verdict: analysis.analysis.verdict.map(
              ({ category, question, answer, findings, highestSeverity }) => ({
                category,
                question,
                answer,
                findings,
                highestSeverity,
              }),
            ),
          }
        : null,
      inventory,
      timings: {
        containmentMs:
          outcome && victim?.containedAt ? Date.parse(victim.containedAt) - outcome.startedAt : null,
        workflowMs: outcome ? outcome.endedAt - outcome.startedAt : null,
      },
    };
  } finally {
    await lightsail.stop();
    await cloudTrail.stop();
    await moto.stop();
  }
}

/** Copies the HTML report out of the emulated evidence bucket, with the e-mail text beside it. */
async function saveReport(
  sent: ReportOutput,
  email: Alert | undefined,
  outDir: string,
  screenshot: boolean,
  log: (line: string) => void,
): Promise<NonNullable<DrillReport['report']>> {
  const out = await new S3Client({}).send(
    new GetObjectCommand({ Bucket: process.env.EVIDENCE_BUCKET ?? '', Key: sent.reportKey }),
  );
  const html = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  const dir = path.resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const htmlPath = path.join(dir, 'report.html');
  writeFileSync(htmlPath, html);
  let emailPath: string | null = null;
  if (email) {
    emailPath = path.join(dir, 'email.txt');
    writeFileSync(emailPath, `Subject: ${email.subject}\n\n${email.message}\n`);
  }
  let png: string | null = null;
  if (screenshot) {
    png = path.join(dir, 'report.png');
    log('Opening the report in headless Chromium for a screenshot...');
    await screenshotReport(htmlPath, png);
  }
  return {
    path: htmlPath,
    sizeBytes: html.length,
    emailPath,
    emailBytes: email ? Buffer.byteLength(email.message, 'utf8') : null,
    screenshot: png,
    evidenceObjects: sent.evidenceObjects ?? null,
    missing: sent.missing ?? [],
  };
}

/** Reads the attributed inventory back from the emulated evidence bucket, keeping what the attacker may have left. */
async function readInventory(key: string): Promise<DrillReport['inventory']> {
  const out = await new S3Client({}).send(
    new GetObjectCommand({ Bucket: process.env.EVIDENCE_BUCKET ?? '', Key: key }),
  );
  const items = JSON.parse((await out.Body?.transformToString()) ?? '[]') as InventoryItem[];
  return items
    .filter((item) => item.createdByKey !== false)
    .map((item) => ({
      service: item.service,
      type: item.type,
      id: item.id,
      region: item.region,
      createdByKey: item.createdByKey,
      evidenceEventId: item.evidenceEventId ?? null,
      estimatedHourlyUsd: item.estimatedHourlyUsd ?? null,
      cleanup: item.cleanup,
    }));
}

function loadDrillScenario(choice: string): Scenario | undefined {
  if (choice === 'none') return undefined;
  const file = choice === 'default' ? DEFAULT_SCENARIO_FILE : choice;
  try {
    return loadScenario(file);
  } catch (error) {
    throw new DrillInputError((error as Error).message);
  }
}

/** Reads a JSON or YAML event, with {{VICTIM_KEY}}, {{SECOND_KEY}} and {{ACCOUNT_ID}} filled in. */
export function readEventFile(file: string, values: Record<string, string>): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DrillInputError(`Cannot read the event file ${file}: ${(error as Error).message}`);
  }
  const filled = fillPlaceholders(text, values);
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? parseYaml(filled) : JSON.parse(filled);
  } catch (error) {
    throw new DrillInputError(
      `The event file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DrillInputError(
      `The event file ${file} must hold one event object (with source, detail-type and detail).`,
    );
  }
  return parsed as Record<string, unknown>;
}

export class DrillInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillInputError';
  }
}
