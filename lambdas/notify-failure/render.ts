import { actionLine, asSubject } from '../alert/render';
import type { ContainmentResult, IntakeResult } from '../shared/types';

/** What the workflow hands over when a step failed: whatever it had gathered, plus the error. */
export interface FailureState {
  event?: unknown;
  intake?: IntakeResult;
  containment?: ContainmentResult[];
  error?: { Error?: string; Cause?: string };
  /** The Report step's own failure, caught after the investigation (which may have its `error` too). */
  reportError?: { Error?: string; Cause?: string };
}

export interface FailureContext {
  executionId?: string;
  stateMachineLogGroup?: string;
}

export interface ParsedError {
  name: string;
  message: string;
}

/** Step Functions wraps a Lambda error as Cause = JSON {errorType, errorMessage}; its own errors are plain text. */
export function parseCause(error: FailureState['error']): ParsedError {
  const name = error?.Error ?? 'UnknownError';
  const cause = error?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorType?: string; errorMessage?: string };
    if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string') {
      return { name: parsed.errorType ?? name, message: parsed.errorMessage };
    }
  } catch {
    // Not JSON: a States.* error or a plain message.
  }
  return { name, message: cause || 'no detail was given' };
}

/** The failure alert: what went wrong, what was and was not done, what a person must do now. */
export function renderFailureAlert(
  state: FailureState,
  context: FailureContext = {},
): { subject: string; message: string } {
  const error = parseCause(state.reportError ?? state.error);
  const incident = state.intake?.incident;
  const event = summarizeEvent(state.event);
  const account = incident?.accountId ?? event.account ?? 'unknown account';
  const results = state.containment ?? [];
  const deactivated = results.filter((r) =>
    r.actions.some((a) => a.action === 'iam:UpdateAccessKey' && a.ok),
  );
  const keysNamed = state.intake?.keys.map((k) => k.accessKeyId) ?? event.keys;
  const notContained = keysNamed.filter((id) => !deactivated.some((r) => r.accessKeyId === id));

  const subject = asSubject(`[FAILED] Exposed-key response failed in ${account}: ${error.name}`);
  const lines: string[] = [];
  lines.push(
    deactivated.length === 0
      ? 'The exposed-key responder FAILED and changed NO key. Any exposed key is still usable until you act.'
      : `The exposed-key responder FAILED part-way. Deactivated: ${deactivated.map((r) => r.accessKeyId).join(', ')}.`,
  );
  lines.push('');
  lines.push('WHAT WENT WRONG');
  lines.push(`${error.name}: ${error.message}`);
  if (state.reportError && state.error) {
    // The report would have said this; it failed, so this message is the only one that can.
    const earlier = parseCause(state.error);
    lines.push(`Before that, a step of the investigation failed: ${earlier.name}: ${earlier.message}`);
  }
  lines.push('');
  lines.push('WHAT WAS DONE');
  if (results.length === 0) lines.push('Nothing: the response stopped before containing any key.');
  for (const result of results) {
    lines.push(`${result.accessKeyId}: ${result.decision}. ${result.reason}`);
    for (const action of result.actions) lines.push(`  ${actionLine(action)}`);
  }
  lines.push('');
  lines.push('WHAT WAS NOT DONE');
  if (notContained.length) lines.push(`Keys NOT deactivated: ${notContained.join(', ')}.`);
  else if (keysNamed.length === 0) lines.push('The event could not be read, so no key was identified.');
  else lines.push('Every named key was deactivated; the failure came after containment.');
  lines.push('');
  lines.push('THE EVENT');
  lines.push(
    `Source: ${event.source ?? 'unknown'}   Type: ${event.type ?? 'unknown'}   Event id: ${event.id ?? 'unknown'}`,
  );
  if (event.keys.length) lines.push(`Access keys it names: ${event.keys.join(', ')}`);
  if (incident) lines.push(`Incident: ${incident.incidentId}`);
  lines.push('');
  lines.push('WHAT TO DO NOW');
  const steps = [
    ...notContained.map(
      (id) =>
        `Deactivate ${id} by hand: aws iam update-access-key --user-name <owner> --access-key-id ${id} --status Inactive (the owner: aws iam get-access-key-last-used --access-key-id ${id}).`,
    ),
    `Read the execution${context.executionId ? ` ${context.executionId}` : ''} in the Step Functions console${context.stateMachineLogGroup ? ` and the log group ${context.stateMachineLogGroup}` : ''}: the full event is logged there.`,
    'Fix the cause above and, if the event was real, start the workflow again with the same event.',
  ];
  steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s}`);
  });
  return { subject, message: lines.join('\n') };
}

interface EventSummary {
  source?: string;
  type?: string;
  id?: string;
  account?: string;
  keys: string[];
}

/** Reads what it can of an event that may be malformed, without trusting any field's type. */
export function summarizeEvent(raw: unknown): EventSummary {
  const summary: EventSummary = { keys: [] };
  if (!raw || typeof raw !== 'object') return summary;
  const event = raw as Record<string, unknown>;
  const detail = (typeof event.detail === 'object' && event.detail ? event.detail : {}) as Record<
    string,
    unknown
  >;
  summary.source = short(event.source);
  summary.id = short(event.id);
  summary.account = short(detail.affectedAccount) ?? short(event.account);
  summary.type = short(detail.eventTypeCode) ?? short(event['detail-type']);
  const entities = Array.isArray(detail.affectedEntities) ? detail.affectedEntities : [];
  for (const entity of entities.slice(0, 20)) {
    const value = short((entity as { entityValue?: unknown } | null)?.entityValue);
    if (value && /^AKIA[A-Z0-9]{16}$/.test(value)) summary.keys.push(value);
  }
  return summary;
}

function short(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.length > 80 ? `${value.slice(0, 80)}...` : value;
}
