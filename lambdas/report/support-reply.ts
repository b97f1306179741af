/**
 * A draft answer to the support case AWS opens after a leak: it asks what was done about the key, what
 * unauthorized activity and resources were found and removed, and it can suspend the account if nobody
 * answers within five days. The draft states only what the evidence shows; what a person must confirm
 * (the case id, that the resources were removed, that the secret left the repository) is in [brackets].
 */
import {
  findingResources,
  hasUnsafeChars,
  isManifest,
  oneLine,
  pickMoments,
  plural,
  type ReportFacts,
  reportFacts,
  resourceName,
  truncate,
  usd,
  utc,
} from './model';
import type { ReportInput } from './types';

/** The Support API takes a case message of at most 8,000 characters (AddCommunicationToCase). */
export const SUPPORT_REPLY_MAX = 8000;

const CAPS = { moments: 12, gaps: 6 };

export function renderSupportReply(input: ReportInput): string {
  const facts = reportFacts(input);
  const head: string[] = [];
  if (facts.drill) {
    head.push(
      '[DRILL: this incident was an exercise. There is no AWS support case to answer; do not send.]',
      '',
    );
  }
  const keyList = facts.keys.map((k) => k.result.accessKeyId).join(', ') || '[access key id]';
  head.push(
    `Subject: Re: exposed access key ${keyList} in account ${facts.accountId} [case id: fill in]`,
    '',
    'Hello AWS Support,',
    '',
    `Thank you for the notification about exposed credentials in account ${facts.accountId}. We have acted on it; the details follow. All times are UTC.`,
    '',
    '1. ACCESS KEYS',
  );
  for (const k of facts.keys) head.push(`- ${keyLine(k, input)}`);
  if (!facts.keys.length) head.push('- [No key was deactivated automatically. State what was done by hand.]');
  head.push(
    '- The keys are deactivated, not deleted, so their activity stays attributable; we will delete them once any legitimate workload uses a replacement. [confirm]',
    '',
    '2. TIMELINE',
  );
  const { shown, hidden } = pickMoments(facts.moments, CAPS.moments);
  for (const m of shown)
    head.push(`- ${utc(m.at)} ${m.text.replaceAll('the attacker', 'the unauthorized party')}.`);
  if (hidden) head.push(`- ... ${hidden} more events in our incident report.`);
  head.push('', '3. UNAUTHORIZED ACTIVITY FOUND');
  const activity = activityParts(input, facts);
  const resources = resourceParts(facts);
  const tail: string[] = ['', '5. WHAT REMAINS TO CHECK', ...remaining(input, facts)];
  if (facts.resources.hourlyUsd > 0) {
    tail.push(
      '',
      '6. BILLING',
      `The unauthorized resources were estimated at about ${usd(facts.resources.hourlyUsd)} per hour at list prices while they ran. We ask you to review the charges they caused. [keep or remove]`,
    );
  }
  tail.push('', 'Regards,', '[name, role, phone]');

  // The lists take what the fixed parts leave, resources first: they are what AWS asks about.
  const fixed = [
    ...head,
    ...activity.intro,
    ...activity.after,
    '',
    '4. UNAUTHORIZED RESOURCES AND THEIR REMOVAL',
    ...resources.after,
    ...tail,
  ];
  let budget = SUPPORT_REPLY_MAX - size(fixed) - 2 * MORE_LINE;
  const resourceList = fill(resources.items, Math.max(0, Math.floor(budget * 0.6)), resources.more);
  budget -= size(resourceList);
  const findingList = fill(activity.items, Math.max(0, budget), activity.more);
  const lines = [
    ...head,
    ...activity.intro,
    ...findingList,
    ...activity.after,
    '',
    '4. UNAUTHORIZED RESOURCES AND THEIR REMOVAL',
    ...resources.before,
    ...resourceList,
    ...resources.after,
    ...tail,
  ];
  return truncate(lines.join('\n'), SUPPORT_REPLY_MAX);
}

/** Room kept for each list's "... and N more" line. */
const MORE_LINE = 100;

function size(lines: string[]): number {
  return lines.reduce((n, l) => n + l.length + 1, 0);
}

/** As many items as fit in `budget` characters, then a line saying how many more the report holds. */
function fill(items: string[], budget: number, moreLine: (n: number) => string): string[] {
  const out: string[] = [];
  let used = 0;
  for (const item of items) {
    if (used + item.length + 1 > budget) break;
    out.push(item);
    used += item.length + 1;
  }
  return out.length < items.length ? [...out, moreLine(items.length - out.length)] : out;
}

interface Parts {
  intro: string[];
  items: string[];
  more: (n: number) => string;
  after: string[];
}

function keyLine(k: ReportFacts['keys'][number], input: ReportInput): string {
  const r = k.result;
  if (k.dead === true) {
    const revoke = r.actions.find((a) => a.action === 'iam:PutUserPolicy' && a.ok && !a.planned);
    const sessions = revoke
      ? ' Temporary credentials issued with it before then are revoked (deny on aws:TokenIssueTime).'
      : '';
    return `${r.accessKeyId} (${k.owner}): deactivated ${utc(k.deactivatedAt)}${
      k.deactivatedAt ? `, ${elapsed(input.incident.detectedAt, k.deactivatedAt)} after your detection` : ''
    }.${sessions}`;
  }
  if (r.decision === 'not-found') return `${r.accessKeyId}: not found in this account. [explain]`;
  if (r.decision === 'foreign-account') return `${r.accessKeyId}: belongs to another account. [explain]`;
  return `${r.accessKeyId} (${k.owner}): NOT yet deactivated (${oneLine(r.reason, 160)}). [state when it will be / was deactivated by hand]`;
}

function elapsed(from: string, to: string): string {
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  if (Number.isNaN(s)) return 'an unknown time';
  return s < 120
    ? `${s} seconds`
    : s < 7200
      ? `${Math.round(s / 60)} minutes`
      : `${(s / 3600).toFixed(1)} hours`;
}

function activityParts(input: ReportInput, facts: ReportFacts): Parts {
  const intro: string[] = [];
  const after: string[] = [];
  const none = { intro, items: [], more: () => '', after };
  const activity = input.activity;
  if (isManifest(activity)) {
    intro.push(
      `We reviewed the CloudTrail management events made with the key${activity.keys.length > 1 ? ' and the credentials minted from it' : ''} in ${plural(activity.regions.length, 'region')}, ${utc(activity.window.start)} to ${utc(activity.window.end)}: ${plural(activity.totals.events, 'event')}.`,
    );
  } else {
    intro.push('[The CloudTrail review did not complete: state what was reviewed by hand.]');
  }
  if (!input.analysis) {
    intro.push('[The automated analysis did not run: summarize the activity by hand.]');
    return none;
  }
  if (!facts.attacker.length) {
    intro.push('We found no call by an unauthorized party.');
    return none;
  }
  const s = input.analysis.summary;
  if (s.firstUse) {
    const ips = s.sourceIps ?? [];
    const list = ips.length
      ? ` (${ips
          .slice(0, 5)
          .map((ip) => oneLine(ip.value, 60))
          .join(', ')}${ips.length > 5 ? ', ...' : ''})`
      : '';
    intro.push(
      `The unauthorized party first used the key at ${utc(s.firstUse)} and last at ${utc(s.lastUse)}, from ${plural(ips.length, 'IP address', 'IP addresses')}${list}. Its changes:`,
    );
  }
  const succeeded = facts.attacker.filter((f) => !f.failed && f.category !== 'reconnaissance');
  const failed = facts.attacker.filter((f) => f.failed);
  if (!succeeded.length) intro.push('- None: every change it attempted failed.');
  if (failed.length) after.push(`${plural(failed.length, 'further attempt')} failed (access denied).`);
  return {
    intro,
    items: succeeded.map((f) => {
      const on = findingResources(f, 3);
      return `- ${utc(f.eventTime)} ${oneLine(f.eventName, 60)} in ${oneLine(f.region, 30)}${on ? ` (${on})` : ''}: ${oneLine(f.why, 200)}`;
    }),
    more: (n) => `- ... and ${n} more changes, listed in our incident report.`,
    after,
  };
}

function resourceParts(facts: ReportFacts): Parts & { before: string[] } {
  const r = facts.resources;
  const empty = { intro: [], items: [], more: () => '', after: [] };
  if (r.state === 'missing') {
    return {
      ...empty,
      before: ['[The automated inventory did not run: list what was found and removed by hand.]'],
    };
  }
  if (!r.remaining.length) {
    const gone = r.attacker.length
      ? `The ${plural(r.attacker.length, 'resource')} the key created no longer exist (terminated or cancelled).`
      : 'We found no resource created or changed by the key that still exists.';
    const unknown = r.unknown.length
      ? [`[${plural(r.unknown.length, 'resource')} of unknown origin are being reviewed.]`]
      : [];
    return { ...empty, before: [gone, ...unknown] };
  }
  const gone = r.attacker.length - r.remaining.length;
  return {
    intro: [],
    before: ['Created or changed by the key, with the command that removes each:'],
    items: r.remaining.map((item) => {
      const command =
        hasUnsafeChars(item.cleanup) || item.cleanup.length > 400
          ? '(command in our incident report)'
          : item.cleanup;
      return `- ${resourceName(item)} in ${oneLine(item.region, 30)}${item.createdAt ? `, created ${utc(item.createdAt)}` : ''}. Removal: ${command} [status: removed / in progress]`;
    }),
    more: (n) => `- ... and ${n} more, with their removal commands, in our incident report.`,
    after:
      gone > 0
        ? [`${plural(gone, 'further resource')} the key created no longer exist (terminated or cancelled).`]
        : [],
  };
}

function remaining(input: ReportInput, facts: ReportFacts): string[] {
  const c = facts.coverage;
  const lines: string[] = [];
  for (const g of c.activity.incomplete.slice(0, CAPS.gaps))
    lines.push(`- CloudTrail in ${g.region} was not fully read (${g.why}).`);
  if (c.activity.incomplete.length > CAPS.gaps)
    lines.push(`- ... and ${c.activity.incomplete.length - CAPS.gaps} more regions.`);
  for (const g of c.inventory.incomplete.slice(0, CAPS.gaps))
    lines.push(`- The ${g.service} inventory in ${g.region} is incomplete (${g.why}).`);
  for (const m of c.missing) lines.push(`- ${m.part} is missing: ${m.why}.`);
  lines.push(`- ${c.dataEvents.s3}`);
  lines.push(`- ${c.dataEvents.lambda}`);
  const url = input.incident.exposedUrl;
  lines.push(
    url
      ? `- The key was exposed at ${oneLine(url, 200)}; [confirm it was removed there, including from the history].`
      : '- [State where the key was exposed and that it was removed there.]',
  );
  return lines;
}
