/**
 * The report by email: plain text read on a phone, half awake. The first lines answer the four questions
 * (is the key dead, did the attacker do anything, what is still running and at what cost, what now); the
 * rest is the evidence for them, each list cut short with "... and N more in the report".
 */
import { actionLine, asSubject } from '../alert/render';
import type { Finding } from '../analyze/types';
import {
  findingResources,
  hasUnsafeChars,
  keysPhrase,
  oneLine,
  pickMoments,
  plural,
  type ReportFacts,
  reportFacts,
  resourceName,
  runningText,
  type Step,
  safeUrl,
  severityTag,
  usd,
  utc,
} from './model';
import type { ReportInput, ReportInventoryItem } from './types';

/** Well under SNS's 256 KB even JSON-escaped next to the chat message; mail clients clip long mails too. */
export const EMAIL_MAX_BYTES = 60 * 1024;

const CAPS = {
  keys: 10,
  actions: 8,
  findings: 10,
  resources: 15,
  unknown: 5,
  moments: 12,
  regions: 8,
  inventoryGaps: 5,
  missing: 10,
};
/** Clean-up lines longer than this (or holding control characters) are shown in the HTML report only. */
const MAX_COMMAND = 1500;

export interface RenderedEmail {
  subject: string;
  text: string;
}

export interface EmailOptions {
  maxBytes?: number;
}

/** `[CRITICAL][CONTAINED] Report: AKIA... in 123456789012, IAM user ci-deployer`: the account survives a cut. */
export function reportSubject(input: ReportInput, facts: ReportFacts = reportFacts(input)): string {
  const drill = facts.drill ? 'DRILL ' : '';
  const owner = facts.keys.length === 1 ? `, ${facts.keys[0].owner}` : '';
  return asSubject(
    `[${drill}${severityTag(facts.severity)}][${facts.containmentTag}] Report: ${keysPhrase(facts.keys)} in ${facts.accountId}${owner}`,
  );
}

export function renderEmail(input: ReportInput, options: EmailOptions = {}): RenderedEmail {
  const facts = reportFacts(input);
  const maxBytes = options.maxBytes ?? EMAIL_MAX_BYTES;
  const lines: string[] = [
    ...glance(input, facts),
    ...section('MOST SEVERE FINDINGS', findingsBlock(input, facts)),
    ...section('WHAT THE ATTACKER LEFT (clean-up commands: review, then run)', resourcesBlock(facts)),
    ...section('TIMELINE (UTC)', timelineBlock(facts)),
    ...section('WHAT TO DO', stepsBlock(facts.steps)),
    ...section('WHAT THIS REPORT COULD NOT SEE', coverageBlock(facts)),
    ...section('WHAT THE RESPONDER DID', responderBlock(input, facts)),
    ...section('LINKS', linksBlock(input)),
    '',
    `Incident ${facts.incidentId}, generated ${utc(input.generatedAt)} by exposed-key-responder.`,
  ];
  return { subject: reportSubject(input, facts), text: fitBytes(lines, maxBytes) };
}

// ------------------------------------------------------------------------------------------ blocks

function glance(input: ReportInput, facts: ReportFacts): string[] {
  const lines: string[] = [];
  if (facts.drill) lines.push('DRILL: this is an exercise, not a real leak.', '');
  if (facts.keys.length === 0)
    lines.push(`KEY: none was contained in account ${facts.accountId}. See WHAT TO DO.`);
  for (const k of facts.keys.slice(0, CAPS.keys)) {
    lines.push(`KEY ${k.result.accessKeyId} (${k.owner}, account ${facts.accountId}): ${k.status}.`);
  }
  if (facts.keys.length > CAPS.keys)
    lines.push(`... and ${facts.keys.length - CAPS.keys} more keys in the report.`);
  lines.push(`ATTACKER: ${facts.verdict.text}.`);
  lines.push(`STILL THERE: ${runningText(facts.resources, facts.coverage)}.`);
  if (facts.coverage.missing.length) {
    lines.push(`INCOMPLETE: ${facts.coverage.missing.map((m) => m.part).join(', ')} missing (see below).`);
  }
  lines.push('DO NOW:');
  facts.steps.slice(0, 3).forEach((s, i) => {
    lines.push(`${i + 1}. ${s.text}`);
  });
  const report = safeUrl(input.links.reportUrl);
  lines.push(report ? `Full report: ${report}` : 'Full report: not stored (see LINKS).');
  return lines;
}

function section(title: string, body: string[]): string[] {
  return body.length ? ['', `== ${title} ==`, ...body] : [];
}

function more(total: number, shown: number, what: string): string[] {
  return total > shown
    ? [`... and ${(total - shown).toLocaleString('en-US')} more ${what} in the report.`]
    : [];
}

function findingsBlock(input: ReportInput, facts: ReportFacts): string[] {
  if (!input.analysis) return ['Not available: the activity was not analyzed.'];
  const list = facts.attacker;
  if (!list.length) return ['No finding: nothing the attacker did matched a rule.'];
  const lines: string[] = [];
  for (const f of list.slice(0, CAPS.findings)) lines.push(...findingLines(f));
  lines.push(...more(list.length, CAPS.findings, 'findings'));
  const omitted = input.analysis.summary.findings?.omitted ?? 0;
  if (omitted > 0)
    lines.push(
      `(${plural(omitted, 'low-severity finding')} beyond the analyzer's cap were counted, not kept.)`,
    );
  return lines;
}

function findingLines(f: Finding): string[] {
  const tag = `[${f.severity.toUpperCase()}${f.failed ? ', failed' : ''}]`;
  const lines = [`${tag} ${utc(f.eventTime)} ${oneLine(f.region, 30)} ${oneLine(f.eventName, 80)}`];
  lines.push(`  ${oneLine(f.why, 300)}`);
  const on = findingResources(f, 3);
  if (on) lines.push(`  On: ${on}`);
  if (f.todo) lines.push(`  Do: ${oneLine(f.todo, 300)}`);
  return lines;
}

function resourcesBlock(facts: ReportFacts): string[] {
  const r = facts.resources;
  if (r.state === 'missing')
    return ['Not available: the inventory did not run. What the attacker left is unknown.'];
  const lines: string[] = [];
  if (!r.remaining.length) lines.push('Nothing made by the key is still there.');
  for (const item of r.remaining.slice(0, CAPS.resources)) lines.push(...itemLines(item, true));
  lines.push(...more(r.remaining.length, CAPS.resources, 'resources'));
  if (r.remaining.length) {
    const cost =
      r.hourlyUsd > 0 ? `about ${usd(r.hourlyUsd)}/h, ${usd(r.hourlyUsd * 24)}/day` : 'no priced compute';
    const unpriced = r.unpriced ? `; ${r.unpriced} with no hourly price (still a risk)` : '';
    lines.push(`Total: ${cost}${unpriced}. Estimates from list prices; the bill is the truth.`);
  }
  const gone = r.attacker.length - r.remaining.length;
  if (gone > 0)
    lines.push(`Already gone: ${plural(gone, 'resource')} the key made (terminated or cancelled).`);
  if (r.unknown.length) {
    lines.push('', `Found, origin unknown (${r.unknown.length}); review before removing:`);
    for (const item of r.unknown.slice(0, CAPS.unknown)) lines.push(...itemLines(item, false));
    lines.push(...more(r.unknown.length, CAPS.unknown, 'resources of unknown origin'));
  }
  return lines;
}

function itemLines(item: ReportInventoryItem, withCommand: boolean): string[] {
  const cost = item.estimatedHourlyUsd ? `, ~${usd(item.estimatedHourlyUsd)}/h` : '';
  const since = item.createdAt ? `, since ${utc(item.createdAt)}` : '';
  const lines = [`- ${resourceName(item)}, ${oneLine(item.region, 30)}${cost}${since}`];
  if (!withCommand) return lines;
  if (hasUnsafeChars(item.cleanup) || item.cleanup.length > MAX_COMMAND) {
    lines.push('  (clean-up command holds control characters or is too long: copy it from the HTML report)');
  } else {
    lines.push(`  ${item.cleanup}`);
  }
  return lines;
}

function timelineBlock(facts: ReportFacts): string[] {
  const { shown, hidden } = pickMoments(facts.moments, CAPS.moments);
  const lines = shown.map((m) => `${utc(m.at)}  ${m.alarm ? '!! ' : ''}${m.text}`);
  return [...lines, ...more(shown.length + hidden, shown.length, 'moments')];
}

function stepsBlock(steps: Step[]): string[] {
  const lines: string[] = [];
  steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.text}`);
    if (s.command) lines.push(`   ${s.command}`);
  });
  return lines;
}

function coverageBlock(facts: ReportFacts): string[] {
  const c = facts.coverage;
  const lines = [c.activity.text];
  for (const r of c.activity.incomplete.slice(0, CAPS.regions)) lines.push(`  - ${r.region}: ${r.why}`);
  lines.push(...more(c.activity.incomplete.length, CAPS.regions, 'incomplete regions'));
  lines.push(c.managementOnly, c.dataEvents.s3, c.dataEvents.lambda, c.inventory.text);
  for (const g of c.inventory.incomplete.slice(0, CAPS.inventoryGaps)) {
    lines.push(`  - ${g.service} in ${g.region}: ${g.why}`);
  }
  lines.push(...more(c.inventory.incomplete.length, CAPS.inventoryGaps, 'incomplete inventory reads'));
  for (const m of c.missing.slice(0, CAPS.missing)) lines.push(`MISSING: ${m.part}: ${m.why}`);
  lines.push(...more(c.missing.length, CAPS.missing, 'missing parts'));
  return lines;
}

function responderBlock(input: ReportInput, facts: ReportFacts): string[] {
  const lines: string[] = [];
  for (const k of facts.keys.slice(0, CAPS.keys)) {
    const r = k.result;
    lines.push(`${r.accessKeyId}: ${r.decision}. ${oneLine(r.reason, 300)}`);
    for (const a of r.actions.slice(0, CAPS.actions)) lines.push(`  ${oneLine(actionLine(a), 400)}`);
    lines.push(...more(r.actions.length, CAPS.actions, 'actions'));
    if (r.otherKeys?.length) {
      lines.push(
        `  Left alone: ${r.otherKeys.map((o) => `${o.accessKeyId} (${oneLine(o.status, 20)})`).join(', ')}`,
      );
    }
    for (const step of r.manualSteps ?? []) lines.push(`  You must: ${oneLine(step, 400)}`);
  }
  lines.push(...more(facts.keys.length, CAPS.keys, 'keys'));
  const dup = input.containment.filter((r) => r.duplicateOf);
  if (dup.length) {
    lines.push(
      `Handled earlier: ${dup.map((d) => `${d.accessKeyId} (incident ${oneLine(d.duplicateOf, 60)})`).join(', ')}`,
    );
  }
  return lines;
}

function linksBlock(input: ReportInput): string[] {
  const lines: string[] = [];
  const report = safeUrl(input.links.reportUrl);
  const evidence = safeUrl(input.links.evidenceConsoleUrl);
  const presigned = safeUrl(input.links.presignedUrl);
  if (report) lines.push(`Full report: ${report}`);
  if (evidence) lines.push(`Evidence (S3 console): ${evidence}`);
  if (presigned) {
    lines.push(
      `Download the report (anyone with this link can read it${linkExpiry(input.links)}): ${presigned}`,
    );
  }
  if (!lines.length) lines.push('None: the report and evidence were not stored.');
  return lines;
}

/** When the bearer link dies, said as precisely as the signer could know it. */
export function linkExpiry(links: ReportInput['links']): string {
  if (!links.presignedExpiresAt) return '';
  const at = utc(links.presignedExpiresAt);
  return links.presignedSessionBound
    ? `; it works until ${at} at the latest, and stops sooner when the responder's temporary session ends (usually within hours): then use the console link`
    : `, expires ${at}`;
}

/** The hard cap: whole lines only, and a last line that says where the rest is. */
export function fitBytes(
  lines: string[],
  maxBytes: number,
  tail = '... cut here to fit an email: the rest is in the full report.',
): string {
  const text = lines.join('\n');
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let budget = maxBytes - Buffer.byteLength(`\n${tail}`, 'utf8');
  const kept: string[] = [];
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (size > budget) break;
    kept.push(line);
    budget -= size;
  }
  return [...kept, tail].join('\n');
}
