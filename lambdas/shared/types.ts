/**
 * The contracts between the workflow's steps. States carry these, never raw evidence:
 * Step Functions caps a state at 256 KB.
 */

/** What started the response. */
export type Trigger = 'health' | 'quarantine' | 'drill' | 'manual';

export interface ExposedKey {
  accessKeyId: string;
  /** The IAM user the event names, when it names one. Never trusted on its own: Contain re-reads the owner. */
  reportedUserName?: string;
}

export interface Incident {
  incidentId: string;
  /** The account that owns the key, as the event reports it. */
  accountId: string;
  trigger: Trigger;
  eventTypeCode: string;
  /** The notification this incident came from (communicationId, eventArn, CloudTrail eventID or drill event id). */
  notificationId: string;
  /** When AWS detected the exposure (ISO 8601). */
  detectedAt: string;
  /** When the responder received the event (ISO 8601). */
  receivedAt: string;
  exposedUrl?: string;
  /** Region the event was delivered in; differs from the primary for the backup-region copy. */
  deliveredInRegion: string;
  backupCopy: boolean;
}

/** An entity in the event that the responder refuses to act on, and why. */
export interface RejectedEntity {
  value: string;
  reason: string;
}

/** A user AWS quarantined whose exposed key cannot be told apart from its other active keys. */
export interface AmbiguousUser {
  userName: string;
  activeAccessKeyIds: string[];
}

export interface IntakeResult {
  incident: Incident;
  keys: ExposedKey[];
  rejected: RejectedEntity[];
  ambiguous: AmbiguousUser[];
  /** For console-compromise events: users whose password AWS reports, for the manual steps. */
  consoleUsers: string[];
}

export type OwnerType = 'user' | 'root' | 'unknown';

export type Decision =
  | 'contained'
  | 'notify-only'
  | 'dry-run'
  | 'manual-required'
  | 'not-found'
  | 'foreign-account'
  /** Set by the workflow when the Contain step failed for this key (see `error`). */
  | 'failed';

export interface ActionRecord {
  /** e.g. `iam:UpdateAccessKey`. */
  action: string;
  target: string;
  at: string;
  ok: boolean;
  /** True when the stack runs in dry-run: the action was decided, not performed. */
  planned?: boolean;
  detail?: string;
  error?: string;
}

export interface ContainmentResult {
  accessKeyId: string;
  owner: { type: OwnerType; userName?: string };
  decision: Decision;
  /** Why this decision, in a sentence for the alert. */
  reason: string;
  actions: ActionRecord[];
  containedAt?: string;
  /** Status of the key after the step, as read back from IAM. */
  keyStatusAfter?: 'Active' | 'Inactive' | 'unknown';
  /** The user's other keys, listed to show they were left alone. */
  otherKeys?: { accessKeyId: string; status: string }[];
  /** Follow-up steps a person must take (root keys, failed secondary actions). */
  manualSteps?: string[];
  /** The incident that first handled this key, when this one is a re-delivery or a second trigger. */
  duplicateOf?: string;
  /** The incident that produced this result (the first one, for a duplicate). */
  incidentId: string;
  /** Only for `failed`: the error name and message the workflow caught. */
  error?: string;
  cause?: string;
}

export interface AlertResult {
  messageId: string;
  subject: string;
  /** False when a key failed or was refused: the workflow then ends in failure after alerting. */
  allHandled: boolean;
}
