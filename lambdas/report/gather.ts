/**
 * Turns the workflow's state (S3 keys and counts) into what the renderers need, reading the evidence the
 * earlier steps stored. Every part is optional: on the failure path the state is half-built, and a part
 * that cannot be read is reported missing with the reason instead of failing the report.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { AnalysisOutput } from '../analyze/analyze-evidence';
import { readJson } from '../analyze/analyze-evidence';
import type { CallMark, Finding, Summary } from '../analyze/types';
import type { AttributedInventory } from '../attribute/attribute-inventory';
import type { Confirmation } from '../confirm/confirm-containment';
import type { InventoryRegionOutput } from '../inventory/handler';
import type { InventoryItem, ReaderResult } from '../inventory/types';
import type { ActivityManifest } from '../pivots/manifest';
import { TransientAwsError } from '../shared/errors';
import type { ContainmentResult, IntakeResult } from '../shared/types';
import type { DataEventsCoverage, InventoryCoverage, ReportInput, ReportLinks } from './types';

/** The workflow state as it reaches the Report step, on the success path or after a caught failure. */
export interface ReportState {
  intake: IntakeResult;
  containment?: ContainmentResult[];
  alert?: { sent?: boolean; allHandled?: boolean };
  plan?: { regions?: string[] };
  investigation?: {
    confirmation?: { held?: boolean; confirmations?: Confirmation[] };
    activity?: { manifestKey?: string; skipped?: string };
    inventory?: InventoryRegionOutput[];
  };
  /** `{Error, Cause}` when the Analyze step failed and the workflow went on without it. */
  analysis?: Partial<AnalysisOutput> & { skipped?: string; Error?: string; Cause?: string };
  inventory?: Partial<AttributedInventory>;
  /** Set by the Catch that routed a failed step here. */
  error?: { Error?: string; Cause?: string };
}

export interface Gathered {
  input: ReportInput;
  /** Evidence that could not be read, for the log (each is also in `input.missing`). */
  unreadable: string[];
}

type Missing = ReportInput['missing'][number];

/** `{"errorType":"X","errorMessage":"..."}` from a Lambda failure, or the Cause as it is. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: a States.* error's own text.
  }
  return cause;
}

/** Which part of the investigation a caught failure cost, judged by what the state already holds. */
export function failedPart(state: ReportState): Missing | undefined {
  if (!state.error) return undefined;
  const why = `${state.error.Error ?? 'Error'}: ${causeMessage(state.error.Cause) || 'no detail'}`;
  if (!state.plan) return { part: 'Investigation plan (CloudTrail activity, analysis, inventory)', why };
  if (!state.investigation)
    return { part: 'Investigation (CloudTrail activity, inventory, confirmation)', why };
  if (!state.analysis) return { part: 'Analysis', why };
  if (!state.inventory) return { part: 'Inventory attribution', why };
  return { part: 'Report', why };
}

/**
 * The containment as it stands after the read-back a minute later: where it had been undone, the
 * re-applied actions join the key's record, with a step for whoever reads the report; a failed re-apply
 * leaves the key's status unknown rather than "dead".
 */
export function withConfirmation(
  results: ContainmentResult[],
  confirmation: { confirmations?: Confirmation[] } | undefined,
): ContainmentResult[] {
  const undone = (confirmation?.confirmations ?? []).filter((c) => !c.held);
  if (undone.length === 0) return results;
  return results.map((r) => {
    const c = undone.find((u) => u.accessKeyId === r.accessKeyId && !r.duplicateOf);
    if (!c) return r;
    const failed = c.reapplied.some((a) => !a.ok);
    const user = r.owner.userName ?? c.userName;
    return {
      ...r,
      actions: [...r.actions, ...c.reapplied],
      ...(failed ? { keyStatusAfter: 'unknown' as const } : {}),
      manualSteps: [
        ...(r.manualSteps ?? []),
        `The containment was undone after it was applied${c.note ? ` (${c.note})` : ''}; the responder ${
          failed ? 'tried to re-apply it and FAILED: check the key now' : 're-applied it'
        }. Find who undid it: CloudTrail UpdateAccessKey and DeleteUserPolicy calls on user ${user}.`,
      ],
    };
  });
}

/** Per service and region, from what each inventory branch returned (a failed region counts as one). */
export function inventoryCoverage(regions: InventoryRegionOutput[] | undefined): InventoryCoverage[] {
  return (regions ?? []).flatMap((r): InventoryCoverage[] => {
    if (!r.rawKey) {
      return [{ region: r.region, service: '*', complete: false, error: r.failure ?? 'not inventoried' }];
    }
    return r.services
      .filter((s) => !s.skipped)
      .map((s) => ({
        region: r.region,
        service: s.service,
        complete: s.complete,
        ...(s.error ? { error: s.error } : {}),
      }));
  });
}

/**
 * Whether a logging trail records S3 object and Lambda invoke data events. True wins (some trail does);
 * false needs every Region's trails read with their selectors; anything less is "unknown".
 */
export function dataEventsFrom(
  results: ReaderResult[],
  regionsRead: number,
  regionsPlanned: number,
): DataEventsCoverage {
  const trailResults = results.filter((r) => r.service === 'cloudtrail');
  const trails = trailResults.flatMap((r) => r.items).filter((i) => i.details?.kind === 'trail');
  const logging = trails.filter((t) => t.details?.isLogging !== false);
  const coverage = logging.map(
    (t) => t.details?.dataEvents as { s3?: boolean; lambda?: boolean } | undefined,
  );
  const everythingRead =
    regionsPlanned > 0 &&
    regionsRead === regionsPlanned &&
    trailResults.length >= regionsPlanned &&
    trailResults.every((r) => r.complete) &&
    coverage.every((c) => c !== undefined);
  const of = (field: 's3' | 'lambda'): boolean | 'unknown' => {
    if (coverage.some((c) => c?.[field] === true)) return true;
    return everythingRead ? false : 'unknown';
  };
  return { s3: of('s3'), lambda: of('lambda') };
}

async function attempt<T>(
  what: string,
  unreadable: string[],
  missing: Missing[],
  part: string,
  read: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    // Throttling and the like: the workflow retries the step, so the report need not go out without it.
    if (error instanceof TransientAwsError) throw error;
    const why = `${what} could not be read: ${error instanceof Error ? error.message : String(error)}`;
    unreadable.push(why);
    missing.push({ part, why });
    return undefined;
  }
}

export interface GatherOptions {
  s3: S3Client;
  bucket: string;
  links: ReportLinks;
  now: Date;
}

export async function gatherReportInput(state: ReportState, options: GatherOptions): Promise<Gathered> {
  const { s3, bucket } = options;
  const missing: Missing[] = [];
  const unreadable: string[] = [];
  const failure = failedPart(state);
  if (failure) missing.push(failure);
  if (!state.containment) {
    missing.push({
      part: 'Containment results',
      why: 'no result reached the report; see the containment alert',
    });
  }

  let activity: ReportInput['activity'];
  const activityState = state.investigation?.activity;
  if (activityState?.manifestKey) {
    const key = activityState.manifestKey;
    activity = await attempt('The activity manifest', unreadable, missing, 'CloudTrail activity', () =>
      readJson<ActivityManifest>(s3, bucket, key),
    );
  } else if (activityState?.skipped) {
    activity = { skipped: activityState.skipped };
  }

  let analysis: ReportInput['analysis'];
  let timelineEvents: ReportInput['timelineEvents'];
  let timelineOmitted = 0;
  const a = state.analysis;
  if (a?.findingsKey && a.summaryKey) {
    const { findingsKey, summaryKey, timelineKey } = a;
    const findings = await attempt('The findings', unreadable, missing, 'Analysis', () =>
      readJson<Finding[]>(s3, bucket, findingsKey),
    );
    const summary = await attempt('The analysis summary', unreadable, missing, 'Analysis', () =>
      readJson<Summary>(s3, bucket, summaryKey),
    );
    if (findings && summary) analysis = { findings, summary };
    if (timelineKey) {
      const timeline = await attempt('The timeline', unreadable, missing, 'Timeline', () =>
        readJson<{ marks: CallMark[]; omitted: number }>(s3, bucket, timelineKey),
      );
      timelineEvents = timeline?.marks;
      timelineOmitted = timeline?.omitted ?? 0;
    }
  } else if (a?.Error) {
    missing.push({ part: 'Analysis', why: `${a.Error}: ${causeMessage(a.Cause) || 'no detail'}` });
  } else if (a?.skipped && !missing.some((m) => /analy/i.test(m.part))) {
    missing.push({ part: 'Analysis', why: a.skipped });
  }

  let inventory: ReportInput['inventory'];
  const regions = state.investigation?.inventory;
  const itemsKey = state.inventory?.itemsKey;
  if (itemsKey) {
    const items = await attempt('The inventory', unreadable, missing, 'Inventory', () =>
      readJson<InventoryItem[]>(s3, bucket, itemsKey),
    );
    if (items) inventory = { items, coverage: inventoryCoverage(regions) };
  }

  let dataEvents: DataEventsCoverage | undefined;
  if (regions) {
    const raw: ReaderResult[] = [];
    let read = 0;
    for (const region of regions) {
      if (!region.rawKey) continue;
      const key = region.rawKey;
      const results = await attempt(`The inventory of ${region.region}`, unreadable, [], 'Inventory', () =>
        readJson<ReaderResult[]>(s3, bucket, key),
      );
      if (results) {
        raw.push(...results);
        read++;
      }
    }
    dataEvents = dataEventsFrom(raw, read, state.plan?.regions?.length ?? regions.length);
  }

  return {
    input: {
      incident: state.intake.incident,
      intake: state.intake,
      containment: withConfirmation(state.containment ?? [], state.investigation?.confirmation),
      ...(activity ? { activity } : {}),
      ...(analysis ? { analysis } : {}),
      ...(inventory ? { inventory } : {}),
      ...(dataEvents ? { dataEvents } : {}),
      ...(timelineEvents ? { timelineEvents } : {}),
      ...(timelineOmitted ? { timelineOmitted } : {}),
      missing,
      links: options.links,
      generatedAt: options.now.toISOString(),
    },
    unreadable,
  };
}
