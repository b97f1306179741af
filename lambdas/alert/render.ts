import type { ActionRecord, ContainmentResult, Decision, Incident, IntakeResult } from '../shared/types';

/** SNS rejects subjects of 100 characters or more, and non-ASCII or line breaks in them. */
const MAX_SUBJECT = 99;

export interface RenderedAlert {
  subject: string;
  message: string;
  allHandled: boolean;
}

const LABEL: Record<Decision, string> = {
  contained: 'CONTAINED',
  'notify-only': 'NOT CONTAINED (notify-only)',
  'dry-run': 'DRY RUN, nothing changed',
  'manual-required': 'ACTION REQUIRED',
  'not-found': 'KEY NOT FOUND',
  'foreign-account': 'REFUSED, another account',
  failed: 'FAILED',
};

/** Worst first: the subject shows the decision that most needs a human. */
const URGENCY: Decision[] = [
  'failed',
  'manual-required',
  'foreign-account',
  'notify-only',
  'not-found',
  'dry-run',
  'contained',
];

const SUBJECT_TAG: Record<Decision, string> = {
  failed: 'FAILED',
  'manual-required': 'ACTION REQUIRED',
  'foreign-account': 'REFUSED',
  'notify-only': 'NOT CONTAINED',
  'not-found': 'NOT FOUND',
  'dry-run': 'DRY RUN',
  contained: 'CONTAINED',
};

/** Decisions after which the response did its job; the others end the execution as failed. */
const HANDLED = new Set<Decision>(['contained', 'notify-only', 'dry-run', 'not-found']);

/** The first message, sent right after containment: what was done to which key, and what is next. */
export function renderContainmentAlert(intake: IntakeResult, results: ContainmentResult[]): RenderedAlert {
  const { incident } = intake;
  const fresh = results.filter((r) => !r.duplicateOf);
  const worst = URGENCY.find((d) => fresh.some((r) => r.decision === d));
  const needsHuman = intake.ambiguous.length > 0 || intake.consoleUsers.length > 0;

  const subject = buildSubject(incident, fresh, worst, intake);
  const lines: string[] = [];
  lines.push(...headline(incident, fresh));
  if (intake.ambiguous.length) {
    for (const user of intake.ambiguous) {
      lines.push(
        `AWS quarantined user ${user.userName}, which has ${user.activeAccessKeyIds.length} active keys (${user.activeAccessKeyIds.join(', ')}). The responder does not know which one leaked and touched none; the AWS Health event naming the key will contain it. If no containment alert follows within 15 minutes, deactivate the exposed key by hand.`,
      );
    }
  }
  if (intake.consoleUsers.length) {
    lines.push(
      // A reset alone (--password-reset-required) would let whoever signs in next with the leaked password choose the new one.
      `AWS reports the console password of ${intake.consoleUsers.join(', ')} as compromised. The responder does not change passwords: replace it now with one only the owner receives (aws iam update-login-profile --user-name <user> --password '<new>' --password-reset-required) or remove it (aws iam delete-login-profile --user-name <user>), enable MFA, and review the user's recent console sign-ins.`,
    );
  }
  lines.push('');
  lines.push('WHAT HAPPENED');
  lines.push(`${triggerText(incident)} reported ${incident.eventTypeCode} at ${incident.detectedAt}.`);
  if (incident.exposedUrl) lines.push(`Where it was exposed: ${incident.exposedUrl}`);
  lines.push(`Account: ${incident.accountId}   Incident: ${incident.incidentId}`);

  for (const result of fresh) {
    lines.push('');
    lines.push(...keySection(result, incident));
  }
  const duplicates = results.filter((r) => r.duplicateOf);
  if (duplicates.length) {
    lines.push('');
    lines.push(
      `Already handled by an earlier incident: ${duplicates.map((d) => `${d.accessKeyId} (incident ${d.duplicateOf})`).join(', ')}.`,
    );
  }
  if (intake.rejected.length) {
    lines.push('');
    lines.push('ENTITIES NOT ACTED ON');
    for (const r of intake.rejected) lines.push(`  ${r.value || '(empty)'}: ${r.reason}`);
  }
  lines.push('');
  lines.push(...nextSteps(incident, fresh));

  const allHandled = fresh.every((r) => HANDLED.has(r.decision)) && !needsHuman;
  return { subject, message: lines.join('\n'), allHandled };
}

function buildSubject(
  incident: Incident,
  fresh: ContainmentResult[],
  worst: Decision | undefined,
  intake: IntakeResult,
): string {
  const drill = incident.trigger === 'drill' ? 'DRILL ' : '';
  let text: string;
  if (fresh.length === 1) {
    const r = fresh[0];
    const who =
      r.owner.type === 'root' ? 'root user' : r.owner.userName ? `user ${r.owner.userName}` : 'unknown owner';
    text = `[${drill}${SUBJECT_TAG[r.decision]}] Leaked key ${r.accessKeyId} (${who}) in ${incident.accountId}`;
  } else if (fresh.length > 1 && worst) {
    text = `[${drill}${SUBJECT_TAG[worst]}] ${fresh.length} leaked keys in ${incident.accountId}`;
  } else if (intake.ambiguous.length) {
    text = `[${drill}ACTION REQUIRED] AWS quarantined ${intake.ambiguous[0].userName} in ${incident.accountId}`;
  } else if (intake.consoleUsers.length) {
    text = `[${drill}ACTION REQUIRED] Console password compromised in ${incident.accountId}`;
  } else {
    text = `[${drill}ACTION REQUIRED] Leaked-credential event in ${incident.accountId}`;
  }
  return asSubject(text);
}

export function asSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7E]/g, '?');
  return ascii.length > MAX_SUBJECT ? `${ascii.slice(0, MAX_SUBJECT - 3)}...` : ascii;
}

function headline(incident: Incident, fresh: ContainmentResult[]): string[] {
  return fresh.map((r) => {
    const who = ownerText(r.owner, 'the ROOT user');
    const when = r.containedAt
      ? ` at ${r.containedAt}, ${secondsBetween(incident.detectedAt, r.containedAt)} after AWS detected it`
      : '';
    return `${r.accessKeyId} (${who}, account ${incident.accountId}): ${LABEL[r.decision]}${when}.`;
  });
}

function keySection(result: ContainmentResult, incident: Incident): string[] {
  const lines = [`KEY ${result.accessKeyId}`];
  lines.push(`  Owner:     ${ownerText(result.owner, 'root user')}`);
  lines.push(`  Decision:  ${LABEL[result.decision]}. ${result.reason}`);
  if (result.error) lines.push(`  Error:     ${result.error}${result.cause ? `: ${result.cause}` : ''}`);
  if (result.keyStatusAfter) lines.push(`  Status now: ${result.keyStatusAfter}`);
  if (result.containedAt) {
    lines.push(
      `  Contained: ${result.containedAt} (${secondsBetween(incident.detectedAt, result.containedAt)} after detection)`,
    );
  }
  if (result.actions.length) {
    lines.push('  Actions:');
    for (const a of result.actions) lines.push(`    ${actionLine(a)}`);
  }
  if (result.otherKeys?.length) {
    lines.push(
      `  The user's other keys, left untouched: ${result.otherKeys.map((k) => `${k.accessKeyId} (${k.status})`).join(', ')}`,
    );
  }
  if (result.manualSteps?.length) {
    lines.push('  You must:');
    result.manualSteps.forEach((step, i) => {
      lines.push(`    ${i + 1}. ${step}`);
    });
  }
  return lines;
}

function ownerText(owner: ContainmentResult['owner'], rootLabel: string): string {
  if (owner.type === 'root') return rootLabel;
  return owner.userName ? `IAM user ${owner.userName}` : 'no known owner';
}

export function actionLine(a: ActionRecord): string {
  const outcome = a.planned ? 'PLANNED (dry run)' : a.ok ? 'OK' : `FAILED: ${a.error ?? 'unknown error'}`;
  return `${a.at}  ${a.action}  ${a.target}  ${outcome}${a.detail ? `  (${a.detail})` : ''}`;
}

function nextSteps(incident: Incident, fresh: ContainmentResult[]): string[] {
  const keyIds = fresh.map((r) => r.accessKeyId);
  const lines = ['WHAT TO DO NEXT'];
  const steps: string[] = [];
  for (const id of keyIds) {
    steps.push(
      `Check CloudTrail for everything ${id} did, in EVERY region (attackers favour regions you do not use): aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=${id} --region <region>`,
    );
  }
  steps.push(
    'Review all regions for resources you did not create (instances, spot requests, users, access keys, roles, Lambda functions) and remove them: a running miner keeps billing after the key is dead.',
  );
  if (fresh.some((r) => r.owner.type === 'user')) {
    steps.push(
      'If an application uses the key: create the new key first, give it to the application, check that it works, then delete the old key (it is only deactivated, so it can be switched back on if something breaks).',
    );
  }
  steps.push(
    'AWS opens a support case about the exposure: answer it within five days, or the account can be suspended. Say what was contained and when.',
  );
  if (incident.exposedUrl) {
    steps.push(
      `Remove the secret from ${incident.exposedUrl}, including its history: it stays valid for anyone who copied it.`,
    );
  }
  steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s}`);
  });
  return lines;
}

function triggerText(incident: Incident): string {
  switch (incident.trigger) {
    case 'health':
      return incident.backupCopy ? 'AWS Health (copy from the backup region)' : 'AWS Health';
    case 'quarantine':
      return "AWS's quarantine of the user";
    case 'drill':
      return 'A DRILL event (not a real leak)';
    case 'manual':
      return 'A person, by hand,';
  }
}

export function secondsBetween(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (Number.isNaN(ms)) return 'an unknown time';
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}
