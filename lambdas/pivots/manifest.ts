import type { KeyRegionResult, RegionProgress, RegionTask } from '../collect/collect-region';
import { activityPartsPrefix } from '../collect/evidence';
import type { Pivot } from '../collect/pivots';
import type { InvestigationPlan } from '../plan/plan-investigation';

/** Rounds of pivots followed: the exposed keys, what they minted, what those minted. */
export const MAX_ROUNDS = 3;
/** Keys collected in all, exposed and pivots: beyond this the report says the list was cut. */
export const MAX_KEYS = 50;

export interface KeyEntry {
  accessKeyId: string;
  source: 'exposed' | 'pivot';
  round: number;
  mintedBy?: string;
  via?: string;
  eventId?: string;
  roleArn?: string;
}

export interface RegionCoverage {
  region: string;
  events: number;
  pages: number;
  complete: boolean;
  errors: string[];
}

export interface RoleAssumed {
  roleArn: string;
  /** The temporary key of the session. */
  sessionKey: string;
  /** The key that assumed the role. */
  assumedWith: string;
  eventId: string;
  eventTime: string;
}

/** What was collected, where it is, and how complete: the evidence's table of contents. */
export interface ActivityManifest {
  incidentId: string;
  window: { start: string; end: string };
  rounds: number;
  keys: KeyEntry[];
  regions: RegionCoverage[];
  /** Per key and region; `partsPrefix` holds its pages (none when it had no events). */
  collections: (KeyRegionResult & { partsPrefix: string })[];
  pivotKeys: Pivot[];
  rolesAssumed: RoleAssumed[];
  truncated: boolean;
  totals: { events: number; pages: number; keys: number; regions: number; incompleteRegions: number };
}

export function emptyManifest(plan: InvestigationPlan): ActivityManifest {
  return {
    incidentId: plan.incidentId,
    window: plan.window,
    rounds: 0,
    keys: plan.keys.map((accessKeyId) => ({ accessKeyId, source: 'exposed', round: 1 })),
    regions: [],
    collections: [],
    pivotKeys: [],
    rolesAssumed: [],
    truncated: false,
    totals: { events: 0, pages: 0, keys: plan.keys.length, regions: 0, incompleteRegions: 0 },
  };
}

/**
 * Adds one round's region results to the manifest, and picks the keys of the next round: the
 * temporary keys minted by keys already collected that have not been collected themselves.
 */
export function mergeRound(
  manifest: ActivityManifest,
  plan: InvestigationPlan,
  results: (RegionTask & { progress: RegionProgress })[],
): { manifest: ActivityManifest; nextKeys: string[] } {
  const next: ActivityManifest = structuredClone(manifest);
  next.rounds = plan.round;
  for (const task of results) {
    if (task.progress.pivotsTruncated) next.truncated = true;
    const failure = task.progress.failure ? failureText(task.progress.failure) : undefined;
    const unread = failure
      ? task.keys
          .filter((key) => !task.progress.results.some((r) => r.accessKeyId === key))
          .map((accessKeyId) => ({
            accessKeyId,
            region: task.region,
            events: 0,
            pages: 0,
            complete: false,
            error: failure,
          }))
      : [];
    for (const result of [...task.progress.results, ...unread]) {
      next.collections.push({
        ...result,
        partsPrefix: activityPartsPrefix(plan.incidentId, result.accessKeyId, result.region),
      });
    }
    for (const pivot of task.progress.pivots) {
      if (next.pivotKeys.some((p) => p.accessKeyId === pivot.accessKeyId)) continue;
      next.pivotKeys.push(pivot);
      if (pivot.roleArn) {
        next.rolesAssumed.push({
          roleArn: pivot.roleArn,
          sessionKey: pivot.accessKeyId,
          assumedWith: pivot.mintedBy,
          eventId: pivot.eventId,
          eventTime: pivot.eventTime,
        });
      }
    }
  }
  next.regions = coverage(next.collections);

  const seen = new Set(plan.seen);
  const candidates = next.pivotKeys.filter((p) => !seen.has(p.accessKeyId));
  let nextKeys: string[] = [];
  if (candidates.length > 0) {
    const room = Math.max(0, MAX_KEYS - seen.size);
    if (plan.round >= MAX_ROUNDS || candidates.length > room) next.truncated = true;
    if (plan.round < MAX_ROUNDS) nextKeys = candidates.slice(0, room).map((p) => p.accessKeyId);
  }
  for (const pivot of candidates.filter((p) => nextKeys.includes(p.accessKeyId))) {
    next.keys.push({
      accessKeyId: pivot.accessKeyId,
      source: 'pivot',
      round: plan.round + 1,
      mintedBy: pivot.mintedBy,
      via: pivot.eventName,
      eventId: pivot.eventId,
      ...(pivot.roleArn ? { roleArn: pivot.roleArn } : {}),
    });
  }
  next.totals = {
    events: next.collections.reduce((n, c) => n + c.events, 0),
    pages: next.collections.reduce((n, c) => n + c.pages, 0),
    keys: next.keys.length,
    regions: next.regions.length,
    incompleteRegions: next.regions.filter((r) => !r.complete).length,
  };
  return { manifest: next, nextKeys };
}

/** The workflow's {Error, Cause}; a Lambda error's Cause is JSON with the message inside. */
function failureText(failure: { Error?: string; Cause?: string }): string {
  let message = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // A plain-text cause (States.Timeout and the like).
  }
  return `${failure.Error ?? 'Error'}: ${message || 'no detail'}`;
}

function coverage(collections: KeyRegionResult[]): RegionCoverage[] {
  const byRegion = new Map<string, RegionCoverage>();
  for (const c of collections) {
    const entry = byRegion.get(c.region) ?? {
      region: c.region,
      events: 0,
      pages: 0,
      complete: true,
      errors: [],
    };
    entry.events += c.events;
    entry.pages += c.pages;
    entry.complete &&= c.complete;
    if (c.error && !entry.errors.includes(c.error)) entry.errors.push(c.error);
    byRegion.set(c.region, entry);
  }
  return [...byRegion.values()];
}
