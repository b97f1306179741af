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
import type { InventoryItem } from '../inventory/types';
import { parseCause } from '../notify-failure/render';
import type { ActivityManifest } from '../pivots/manifest';
import { TransientAwsError } from '../shared/errors';
import type { ContainmentResult, IntakeResult } from '../shared/types';
import type { InventoryCoverage, ReportInput, ReportLinks } from './types';

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
  return cause ? parseCause({ Cause: cause }).message : '';
}

/** `Name: message` of a caught error, for a missing part's "why". */
function errorText(error: { Error?: string; Cause?: string }): string {
  return `${error.Error ?? 'Error'}: ${causeMessage(error.Cause) || 'no detail'}`;
}

/** Which part of the investigation a caught failure cost, judged by what the state already holds. */
export function failedPart(state: ReportState): Missing | undefined {
  if (!state.error) return undefined;
  const why = errorText(state.error);
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
    missing.push({ part: 'Analysis', why: errorText(a) });
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

  return {
    input: {
      incident: state.intake.incident,
      intake: state.intake,
      containment: withConfirmation(state.containment ?? [], state.investigation?.confirmation),
      ...(activity ? { activity } : {}),
      ...(analysis ? { analysis } : {}),
      ...(inventory ? { inventory } : {}),
      // Read off the trails by the inventory's CloudTrail reader; unknown when nothing was attributed.
      ...(state.inventory?.dataEvents ? { dataEvents: state.inventory.dataEvents } : {}),
      ...(timelineEvents ? { timelineEvents } : {}),
      ...(timelineOmitted ? { timelineOmitted } : {}),
      missing,
      links: options.links,
      generatedAt: options.now.toISOString(),
    },
    unreadable,
  };
}
