/**
 * The facts every rendering shares, worked out once: is the key dead, did the attacker do anything, what is
 * still there and what it costs, what to do, and what the responder could not see. The renderers only lay
 * these out; none of them decides anything on its own.
 */
import { secondsBetween } from '../alert/render';
import type { Category, Finding, Severity, VerdictLine } from '../analyze/types';
import { SEVERITIES } from '../analyze/types';
import type { ActivityManifest } from '../pivots/manifest';
import type { ContainmentResult, Decision } from '../shared/types';
import type { ReportInput, ReportInventoryItem, TimelineEvent } from './types';

/** AWS can suspend the account when nobody answers its support case within five days (aws-facts.md). */
export const SUPPORT_CASE_DAYS = 5;

// ------------------------------------------------------------------------------------------ text safety

/**
 * Characters that let a value forge lines or reorder text on screen: C0/C1 controls (newlines, ANSI escapes),
 * Unicode line separators and bidirectional overrides (a user agent with U+202E reads backwards).
 */
function isUnsafeCode(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

export function hasUnsafeChars(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (isUnsafeCode(value.charCodeAt(i))) return true;
  return false;
}

/** Cuts to `max` characters (code points, so no half emoji) with an ASCII ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, Math.max(0, max - 3)).join('')}...` : text;
}

/**
 * Any value from the account or CloudTrail (user agents, resource names, error messages) as one inert line:
 * unsafe characters become spaces, runs of spaces collapse, long values are cut.
 */
export function oneLine(value: unknown, max = 200): string {
  const raw = String(value ?? '');
  let out = '';
  for (const ch of raw) out += isUnsafeCode(ch.charCodeAt(0)) ? ' ' : ch;
  return truncate(out.replace(/ {2,}/g, ' ').trim(), max);
}

/** A link the outputs may carry: http(s) only, normalized so it cannot break out of markup or chat syntax. */
export function safeUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return url.href.replaceAll('|', '%7C');
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------ formatting

/** `2025-02-12 00:38:36Z`: sortable, unambiguous, short enough for a phone. */
export function utc(iso: string | undefined): string {
  if (!iso) return 'unknown time';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return oneLine(iso, 40);
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function usd(amount: number): string {
  if (amount >= 100) return `$${Math.round(amount).toLocaleString('en-US')}`;
  return `$${amount.toFixed(2)}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

export function addDays(iso: string, days: number): string | undefined {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms + days * 86_400_000).toISOString();
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

// ------------------------------------------------------------------------------------------ keys

export interface KeyState {
  result: ContainmentResult;
  /** The key can no longer sign requests. */
  dead: boolean | 'unknown';
  /** When it was deactivated (containedAt, else the successful UpdateAccessKey). */
  deactivatedAt?: string;
  owner: string;
  /** One line: `DEAD, deactivated ... 42 s after AWS detected it`, `STILL ACTIVE, ...`. */
  status: string;
}

const URGENCY: Decision[] = [
  'failed',
  'manual-required',
  'foreign-account',
  'notify-only',
  'not-found',
  'dry-run',
  'contained',
];

const TAG: Record<Decision, string> = {
  failed: 'FAILED',
  'manual-required': 'ACTION REQUIRED',
  'foreign-account': 'REFUSED',
  'notify-only': 'NOT CONTAINED',
  'not-found': 'NOT FOUND',
  'dry-run': 'DRY RUN',
  contained: 'CONTAINED',
};

export function ownerText(owner: ContainmentResult['owner']): string {
  if (owner.type === 'root') return 'ROOT user';
  return owner.userName ? `IAM user ${oneLine(owner.userName, 64)}` : 'unknown owner';
}

function keyState(result: ContainmentResult, detectedAt: string): KeyState {
  const deactivation = result.actions.find(
    (a) =>
      a.action === 'iam:UpdateAccessKey' && a.ok && !a.planned && /Inactive/.test(a.detail ?? 'Inactive'),
  );
  const deactivatedAt =
    result.decision === 'contained' ? (result.containedAt ?? deactivation?.at) : deactivation?.at;
  let dead: KeyState['dead'];
  if (result.keyStatusAfter === 'Inactive') dead = true;
  else if (result.keyStatusAfter === 'Active') dead = false;
  else if (result.decision === 'contained') dead = true;
  else if (result.decision === 'not-found') dead = 'unknown';
  else dead = false;

  const reason = oneLine(result.reason, 160);
  let status: string;
  if (dead === true) {
    status = deactivatedAt
      ? `DEAD, deactivated ${utc(deactivatedAt)}, ${secondsBetween(detectedAt, deactivatedAt)} after AWS detected it`
      : 'DEAD, inactive';
  } else if (result.decision === 'contained') {
    status = 'STILL ACTIVE, the responder deactivated it but IAM reads it back as Active (undone?)';
  } else {
    switch (result.decision) {
      case 'dry-run':
        status = 'STILL ACTIVE, dry run, nothing was changed';
        break;
      case 'notify-only':
        status = `STILL ACTIVE, notify-only. ${reason}`;
        break;
      case 'manual-required':
        status = `STILL ACTIVE, ACTION REQUIRED. ${reason}`;
        break;
      case 'not-found':
        status = `UNKNOWN, key not found in this account. ${reason}`;
        break;
      case 'foreign-account':
        status = `NOT TOUCHED, belongs to another account. ${reason}`;
        break;
      default:
        status = `STILL ACTIVE, containment FAILED. ${oneLine(result.error ?? result.reason, 160)}`;
    }
  }
  return { result, dead, deactivatedAt, owner: ownerText(result.owner), status };
}

// ------------------------------------------------------------------------------------------ verdict

export type IncidentSeverity = Severity | 'none' | 'unknown';

export interface AttackerVerdict {
  /** `yes`: changed something; `recon`: only looked; `attempted`: only failed writes; `no`; `unknown`: no analysis. */
  answer: 'yes' | 'recon' | 'attempted' | 'no' | 'unknown';
  /** One line for the top of every output. */
  text: string;
  lines: VerdictLine[];
}

const CATEGORY_LABEL: Record<Category, string> = {
  persistence: 'persistence',
  pivot: 'new credentials',
  'privilege-escalation': 'privilege escalation',
  'defense-evasion': 'defense evasion',
  'organization-change': 'organization change',
  'compute-hijacking': 'compute on our bill',
  'ses-abuse': 'SES/SMS abuse',
  'credential-access': 'secrets read',
  exfiltration: 'data shared out',
  'lateral-movement': 'lateral movement',
  impact: 'destruction',
  reconnaissance: 'reconnaissance',
  'other-change': 'other changes',
  containment: 'containment',
};

export function categoryLabel(category: string): string {
  return CATEGORY_LABEL[category as Category] ?? oneLine(category, 40);
}

function severityCounts(findings: Finding[]): string {
  const counts = SEVERITIES.filter((s) => s !== 'info')
    .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return counts.length ? counts.join(', ') : 'informational only';
}

function verdictOf(input: ReportInput, attacker: Finding[]): AttackerVerdict {
  const analysis = input.analysis;
  if (!analysis) {
    return {
      answer: 'unknown',
      text: 'UNKNOWN - the activity was not analyzed (see what is missing)',
      lines: [],
    };
  }
  let lines = (analysis.summary.verdict ?? []).filter((l) => l.category !== 'containment');
  if (lines.length === 0 && attacker.length > 0) lines = derivedVerdict(attacker);
  const yes = lines.filter((l) => l.answer === 'yes');
  const changed = yes.filter((l) => l.category !== 'reconnaissance');
  const attempted = lines.filter((l) => l.answer === 'attempted');
  const counts = severityCounts(attacker);
  if (changed.length) {
    return {
      answer: 'yes',
      text: `YES - ${listed(
        changed.map((l) => categoryLabel(l.category)),
        6,
      )} (${counts})`,
      lines,
    };
  }
  if (yes.length) {
    const tried = attempted.length
      ? `; tried and failed: ${attempted.map((l) => categoryLabel(l.category)).join(', ')}`
      : '';
    return { answer: 'recon', text: `LOOKED AROUND, changed nothing seen${tried} (${counts})`, lines };
  }
  if (attempted.length) {
    return {
      answer: 'attempted',
      text: `TRIED, ALL FAILED - ${attempted.map((l) => categoryLabel(l.category)).join(', ')} (${counts})`,
      lines,
    };
  }
  const seen = analysis.summary.records?.analyzed ?? 0;
  return { answer: 'no', text: `NOTHING SEEN in ${plural(seen, 'event')} made with the key`, lines };
}

function derivedVerdict(attacker: Finding[]): VerdictLine[] {
  const byCategory = new Map<Category, Finding[]>();
  for (const f of attacker) byCategory.set(f.category, [...(byCategory.get(f.category) ?? []), f]);
  return [...byCategory.entries()].map(([category, list]) => ({
    category,
    question: categoryLabel(category),
    answer: list.some((f) => !f.failed) ? 'yes' : 'attempted',
    findings: list.length,
    failed: list.filter((f) => f.failed).length,
  }));
}

function listed(items: string[], max: number): string {
  return items.length > max
    ? `${items.slice(0, max).join(', ')} and ${items.length - max} more`
    : items.join(', ');
}

export function bySeverity(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    Number(a.failed) - Number(b.failed) ||
    a.eventTime.localeCompare(b.eventTime)
  );
}

// ------------------------------------------------------------------------------------------ inventory

/** The inventory writes `# nothing to remove` for what is already gone (a terminated instance). */
export function isNoop(cleanup: string): boolean {
  return cleanup.trim() === '' || cleanup.trim().startsWith('#');
}

export interface ResourceFacts {
  state: 'done' | 'missing';
  /** Made or changed by the key, most expensive first. */
  attacker: ReportInventoryItem[];
  /** Of those, the ones still there (a clean-up line that does something). */
  remaining: ReportInventoryItem[];
  /** Found, origin unknown: review. */
  unknown: ReportInventoryItem[];
  hourlyUsd: number;
  /** Remaining items without a price (IAM users, keys): free to run, not free to leave. */
  unpriced: number;
}

function resourceFacts(input: ReportInput): ResourceFacts {
  if (!input.inventory) {
    return { state: 'missing', attacker: [], remaining: [], unknown: [], hourlyUsd: 0, unpriced: 0 };
  }
  const cost = (i: ReportInventoryItem) =>
    Number.isFinite(i.estimatedHourlyUsd) && (i.estimatedHourlyUsd ?? 0) > 0
      ? (i.estimatedHourlyUsd as number)
      : 0;
  const order = (a: ReportInventoryItem, b: ReportInventoryItem) =>
    cost(b) - cost(a) || (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id);
  const attacker = input.inventory.items.filter((i) => i.createdByKey === true).sort(order);
  const remaining = attacker.filter((i) => !isNoop(i.cleanup));
  return {
    state: 'done',
    attacker,
    remaining,
    unknown: input.inventory.items.filter((i) => i.createdByKey === 'unknown').sort(order),
    hourlyUsd: remaining.reduce((sum, i) => sum + cost(i), 0),
    unpriced: remaining.filter((i) => cost(i) === 0).length,
  };
}

export function resourceName(item: ReportInventoryItem): string {
  return `${oneLine(item.service, 20)} ${oneLine(item.type, 30)} ${oneLine(item.id, 120)}`;
}

// ------------------------------------------------------------------------------------------ coverage

export interface CoverageFacts {
  activity: {
    state: 'complete' | 'partial' | 'missing';
    text: string;
    incomplete: { region: string; why: string }[];
  };
  /** Always said: LookupEvents holds management events only. */
  managementOnly: string;
  dataEvents: {
    s3: string;
    lambda: string;
    s3Recorded: boolean | 'unknown';
    lambdaRecorded: boolean | 'unknown';
  };
  inventory: {
    state: 'complete' | 'partial' | 'missing';
    text: string;
    incomplete: { region: string; service: string; why: string }[];
  };
  missing: { part: string; why: string }[];
}

export const MANAGEMENT_ONLY =
  'CloudTrail lookups hold management events only (90 days): data events such as S3 object reads and Lambda invocations are not in them.';

export function isManifest(activity: ReportInput['activity']): activity is ActivityManifest {
  return !!activity && !('skipped' in activity);
}

function coverageFacts(input: ReportInput): CoverageFacts {
  const missing = [...input.missing.map((m) => ({ part: oneLine(m.part, 80), why: oneLine(m.why, 300) }))];
  const has = (re: RegExp) => missing.some((m) => re.test(m.part));

  let activity: CoverageFacts['activity'];
  const a = input.activity;
  if (isManifest(a)) {
    const incomplete = a.regions
      .filter((r) => !r.complete)
      .map((r) => ({
        region: oneLine(r.region, 30),
        why: oneLine(r.errors.join('; ') || 'not finished', 200),
      }));
    const total = a.regions.length;
    const window = `${utc(a.window.start)} to ${utc(a.window.end)}`;
    const cut = a.truncated ? ' Some minted keys were not followed (limit reached).' : '';
    activity = {
      state: total > 0 && incomplete.length === 0 ? 'complete' : total === 0 ? 'missing' : 'partial',
      text:
        total === 0
          ? 'CloudTrail activity: no region was read.'
          : `CloudTrail activity: ${total - incomplete.length} of ${plural(total, 'region')} read completely, ${plural(a.totals.events, 'event')}, ${plural(a.keys.length, 'key')}, ${window}.${cut}`,
      incomplete,
    };
  } else {
    const why = a ? oneLine(a.skipped, 300) : 'no result reached the report';
    activity = { state: 'missing', text: `CloudTrail activity: NOT COLLECTED (${why}).`, incomplete: [] };
    if (!has(/activ|collect|cloudtrail/i)) missing.push({ part: 'CloudTrail activity', why });
  }
  if (!input.analysis && !has(/analy/i))
    missing.push({ part: 'Analysis', why: 'no result reached the report' });

  let inventory: CoverageFacts['inventory'];
  if (input.inventory) {
    const cov = input.inventory.coverage;
    const incomplete = cov
      .filter((c) => !c.complete)
      .map((c) => ({
        region: oneLine(c.region, 30),
        service: oneLine(c.service, 30),
        why: oneLine(c.error ?? 'not finished', 200),
      }));
    inventory = {
      state: incomplete.length ? 'partial' : 'complete',
      text: `Inventory: ${cov.length - incomplete.length} of ${plural(cov.length, 'service/region read')} complete, ${plural(input.inventory.items.length, 'resource')} listed.`,
      incomplete,
    };
  } else {
    inventory = {
      state: 'missing',
      text: 'Inventory: NOT DONE, what the attacker left is unknown.',
      incomplete: [],
    };
    if (!has(/invent/i)) missing.push({ part: 'Inventory', why: 'no result reached the report' });
  }

  const de = input.dataEvents;
  const statement = (recorded: boolean | 'unknown', what: string, cannot: string): string => {
    if (recorded === true) {
      return `${what} data events: a trail records them, but this report did not read them; query that trail (Athena or CloudTrail Lake) for the key.`;
    }
    const why = recorded === false ? 'no trail records them' : 'whether a trail records them is unknown';
    return `${what} data events: ${why}. ${cannot}`;
  };
  const s3Recorded = de?.s3 ?? 'unknown';
  const lambdaRecorded = de?.lambda ?? 'unknown';

  return {
    activity,
    managementOnly: MANAGEMENT_ONLY,
    dataEvents: {
      s3: statement(s3Recorded, 'S3', 'S3 object reads cannot be ruled out.'),
      lambda: statement(lambdaRecorded, 'Lambda', 'Lambda invocations cannot be ruled out.'),
      s3Recorded,
      lambdaRecorded,
    },
    inventory,
    missing,
  };
}

// ------------------------------------------------------------------------------------------ timeline

export interface Moment {
  at: string;
  text: string;
  who: 'aws' | 'attacker' | 'responder';
  /** Worth a second look (activity after containment). */
  alarm?: boolean;
  /** 0: detection, AWS's and the responder's actions, first and last call (always shown); 1: the rest. */
  rank: 0 | 1;
}

/** At most `cap` moments: those of rank 0 always, then the earliest of the rest; in time order. */
export function pickMoments(list: Moment[], cap: number): { shown: Moment[]; hidden: number } {
  if (list.length <= cap) return { shown: list, hidden: 0 };
  const keep = new Set(
    [...list.filter((m) => m.rank === 0), ...list.filter((m) => m.rank === 1)].slice(0, Math.max(cap, 0)),
  );
  return { shown: list.filter((m) => keep.has(m)), hidden: list.length - keep.size };
}

function moments(input: ReportInput, keys: KeyState[], attacker: Finding[]): Moment[] {
  const list: Moment[] = [
    {
      at: input.incident.detectedAt,
      who: 'aws',
      text: `AWS detected the exposure (${oneLine(input.incident.eventTypeCode, 60)})`,
      rank: 0,
    },
  ];
  const findings = input.analysis?.findings ?? [];
  for (const f of findings.filter((x) => x.actor === 'aws')) {
    const policy = (f.resources ?? []).find((r) => /Quarantine/i.test(r));
    const text = policy
      ? `AWS quarantined the user (${oneLine(policy.split('/').pop(), 60)})`
      : `AWS ${oneLine(f.eventName, 60)}${resourcesSuffix(f, 1)}`;
    list.push({ at: f.eventTime, who: 'aws', text, rank: 0 });
  }
  const summary = input.analysis?.summary;
  if (summary?.firstUse) {
    list.push({ at: summary.firstUse, who: 'attacker', text: 'First call by the attacker', rank: 0 });
  }
  // The first call of each kind, successful ones first; reconnaissance only when nothing else happened.
  const chrono = [...attacker].sort((x, y) => x.eventTime.localeCompare(y.eventTime));
  const firstOf = new Map<Category, Finding>();
  for (const f of chrono) if (!f.failed && !firstOf.has(f.category)) firstOf.set(f.category, f);
  for (const f of chrono) if (!firstOf.has(f.category)) firstOf.set(f.category, f);
  if (firstOf.size > 1) firstOf.delete('reconnaissance');
  for (const f of firstOf.values()) {
    list.push({
      at: f.eventTime,
      who: 'attacker',
      text: `${categoryLabel(f.category)}: ${oneLine(f.eventName, 60)}${f.failed ? ' (failed)' : ''} in ${oneLine(f.region, 30)}${resourcesSuffix(f, 1)}`,
      rank: 1,
    });
  }
  for (const k of keys) {
    if (k.deactivatedAt && k.dead === true) {
      list.push({
        at: k.deactivatedAt,
        who: 'responder',
        text: `Key ${k.result.accessKeyId} deactivated by the responder`,
        rank: 0,
      });
    }
  }
  const firstContained = keys
    .map((k) => k.deactivatedAt)
    .filter((t): t is string => !!t)
    .sort()[0];
  if (summary?.lastUse && summary.lastUse !== summary.firstUse) {
    const after = firstContained !== undefined && Date.parse(summary.lastUse) > Date.parse(firstContained);
    list.push({
      at: summary.lastUse,
      who: 'attacker',
      text: after
        ? 'Last call by the attacker, AFTER containment: look for live sessions or other keys'
        : 'Last call by the attacker',
      alarm: after,
      rank: 0,
    });
  }
  return list
    .filter((m) => !Number.isNaN(Date.parse(m.at)))
    .sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}

function resourcesSuffix(f: Finding, max: number): string {
  const r = (f.resources ?? []).slice(0, max).map((x) => oneLine(x, 60));
  if (!r.length) return '';
  const more = (f.resources?.length ?? 0) - r.length;
  return ` (${r.join(', ')}${more > 0 ? ` +${more}` : ''})`;
}

export function findingResources(f: Finding, max = 5): string {
  const r = (f.resources ?? []).slice(0, max).map((x) => oneLine(x, 100));
  const more = (f.resources?.length ?? 0) - r.length;
  return r.length ? `${r.join(', ')}${more > 0 ? ` and ${more} more` : ''}` : '';
}

/** A finding standing for its call in the picture (when the analysis kept no marks of its own). */
export function markOf(f: Finding): TimelineEvent {
  const { eventId, eventTime, region, category, severity, failed, eventName } = f;
  return { eventId, eventTime, region, category, severity, failed, eventName };
}

/** Every call for the picture: the given events, else the findings (which then stand for the calls). */
export function timelineEvents(input: ReportInput): (TimelineEvent & { eventId: string })[] {
  const source: TimelineEvent[] = input.timelineEvents ?? (input.analysis?.findings ?? []).map(markOf);
  return source
    .map((e, i) => ({ ...e, eventId: e.eventId ?? `event-${i + 1}` }))
    .filter((e) => !Number.isNaN(Date.parse(e.eventTime)));
}

// ------------------------------------------------------------------------------------------ next steps

export interface Step {
  text: string;
  command?: string;
}

function nextSteps(
  input: ReportInput,
  keys: KeyState[],
  attacker: Finding[],
  resources: ResourceFacts,
  coverage: CoverageFacts,
  deadline: string | undefined,
): Step[] {
  const steps: Step[] = [];
  for (const k of keys.filter((x) => x.dead !== true && !x.result.duplicateOf)) {
    const id = k.result.accessKeyId;
    if (k.result.manualSteps?.length) {
      steps.push({ text: `Key ${id} is still active: ${oneLine(k.result.manualSteps[0], 400)}` });
    } else if (
      k.result.owner.type === 'user' &&
      k.result.owner.userName &&
      k.result.decision !== 'foreign-account'
    ) {
      steps.push({
        text: `Deactivate key ${id} now (${k.owner}).`,
        command: `aws iam update-access-key --user-name ${k.result.owner.userName} --access-key-id ${id} --status Inactive`,
      });
    } else if (k.result.decision !== 'foreign-account') {
      steps.push({
        text: `Key ${id} is still active and has no known IAM owner: find and deactivate it now.`,
      });
    }
  }
  // A dead key can still leave work: a session deny that failed, a containment an attacker undid.
  for (const k of keys.filter((x) => x.dead === true && !x.result.duplicateOf)) {
    const first = k.result.manualSteps?.[0];
    if (first) steps.push({ text: `Key ${k.result.accessKeyId}: ${oneLine(first, 400)}` });
  }
  if (resources.remaining.length) {
    const cost = resources.hourlyUsd > 0 ? ` (about ${usd(resources.hourlyUsd)}/h)` : '';
    steps.push({
      text: `Remove the ${plural(resources.remaining.length, 'resource')} the key left${cost}, most expensive first: the commands are listed with each.`,
    });
  } else if (
    resources.state === 'missing' &&
    attacker.some((f) => !f.failed && f.category !== 'reconnaissance')
  ) {
    steps.push({
      text: 'The inventory did not run: look in every region for instances, users, keys and roles the attacker made.',
    });
  }
  const serious = attacker.filter((f) => !f.failed && (f.severity === 'critical' || f.severity === 'high'));
  if (serious.length) {
    steps.push({
      text: `Work through the ${plural(serious.length, 'critical/high finding')}: each says what to do.`,
    });
  }
  const gaps = coverage.activity.incomplete.map((r) => r.region);
  if (gaps.length) {
    steps.push({
      text: `Check the ${plural(gaps.length, 'region')} not fully read by hand: ${gaps.slice(0, 6).join(', ')}${gaps.length > 6 ? ', ...' : ''}.`,
    });
  }
  if (coverage.missing.length) {
    steps.push({
      text: `Redo what is missing: ${coverage.missing.map((m) => m.part).join(', ')}.`,
    });
  }
  if (coverage.dataEvents.s3Recorded === true) {
    steps.push({
      text: "Query the trail's S3 data events for object reads by the key: this report did not read them.",
    });
  } else {
    steps.push({
      text: 'S3 object reads cannot be ruled out: check S3 server access logs of the buckets the key could read.',
    });
  }
  if (input.incident.trigger !== 'drill' && deadline) {
    steps.push({ text: `Answer AWS's support case by ${utc(deadline)} (a draft reply is in the report).` });
  }
  const url = safeUrl(input.incident.exposedUrl);
  if (url) steps.push({ text: `Remove the key from ${url} and from its history.` });
  return steps;
}

// ------------------------------------------------------------------------------------------ facts

export interface ReportFacts {
  drill: boolean;
  accountId: string;
  incidentId: string;
  keys: KeyState[];
  /** Worst containment outcome, for subjects and titles. */
  containmentTag: string;
  allDead: boolean;
  severity: IncidentSeverity;
  attacker: Finding[];
  verdict: AttackerVerdict;
  resources: ResourceFacts;
  coverage: CoverageFacts;
  moments: Moment[];
  steps: Step[];
  supportDeadline?: string;
}

export function reportFacts(input: ReportInput): ReportFacts {
  const detectedAt = input.incident.detectedAt;
  const fresh = input.containment.filter((r) => !r.duplicateOf);
  const keys = (fresh.length ? fresh : input.containment).map((r) => keyState(r, detectedAt));
  const worst = URGENCY.find((d) => keys.some((k) => k.result.decision === d));
  let containmentTag = worst ? TAG[worst] : 'ACTION REQUIRED';
  if (worst === 'contained' && keys.some((k) => k.dead !== true)) containmentTag = 'NOT CONTAINED';

  const attacker = (input.analysis?.findings ?? []).filter((f) => f.actor === 'attacker').sort(bySeverity);
  let severity: IncidentSeverity = 'unknown';
  if (input.analysis) severity = attacker.length ? attacker[0].severity : 'none';

  const resources = resourceFacts(input);
  const coverage = coverageFacts(input);
  const supportDeadline = addDays(detectedAt, SUPPORT_CASE_DAYS);
  return {
    drill: input.incident.trigger === 'drill',
    accountId: oneLine(input.incident.accountId, 20),
    incidentId: oneLine(input.incident.incidentId, 80),
    keys,
    containmentTag,
    allDead: keys.length > 0 && keys.every((k) => k.dead === true),
    severity,
    attacker,
    verdict: verdictOf(input, attacker),
    resources,
    coverage,
    moments: moments(input, keys, attacker),
    steps: nextSteps(input, keys, attacker, resources, coverage, supportDeadline),
    supportDeadline,
  };
}

export function severityTag(severity: IncidentSeverity): string {
  if (severity === 'none') return 'NO ACTIVITY';
  if (severity === 'unknown') return 'NOT ANALYZED';
  return severity.toUpperCase();
}

/** Resources still there, in one line: the third question of the glance. */
export function runningText(r: ResourceFacts, coverage: CoverageFacts): string {
  if (r.state === 'missing') return 'UNKNOWN - the inventory did not run';
  const partial = coverage.inventory.incomplete.length
    ? ` (${plural(coverage.inventory.incomplete.length, 'read')} incomplete)`
    : '';
  if (!r.remaining.length) {
    const gone = r.attacker.length
      ? `; ${plural(r.attacker.length, 'resource')} it made are already gone`
      : '';
    const unknown = r.unknown.length
      ? `; ${plural(r.unknown.length, 'resource')} of unknown origin to review`
      : '';
    return `NOTHING the key made is still there${gone}${unknown}${partial}`;
  }
  const cost =
    r.hourlyUsd > 0 ? `, about ${usd(r.hourlyUsd)}/h (${usd(r.hourlyUsd * 24)}/day)` : ', no priced compute';
  const unknown = r.unknown.length ? `; ${r.unknown.length} more of unknown origin` : '';
  return `${plural(r.remaining.length, 'resource')} made or changed by the key${cost}${unknown}${partial}`;
}

/** The subject's key part: one key with its owner, or a count. */
export function keysPhrase(keys: KeyState[]): string {
  if (keys.length === 1) return keys[0].result.accessKeyId;
  return `${keys.length} keys`;
}
