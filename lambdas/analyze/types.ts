/**
 * Types of the Analyze step: what it reads (CloudTrail records), what it answers (findings and a
 * summary). The step passes only counts and S3 keys between states; these shapes live in the evidence
 * bucket and in the CLI's `--format json` output.
 */

export interface SessionIssuer {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  userName?: string;
}

export interface UserIdentity {
  /** `IAMUser`, `AssumedRole`, `Root`, `FederatedUser`, `AWSService`, `AWSAccount`, ... */
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  /** Set when an AWS service made the call with the caller's credentials (forward access session). */
  invokedBy?: string;
  sessionContext?: {
    sessionIssuer?: SessionIssuer;
    attributes?: { mfaAuthenticated?: string; creationDate?: string };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * One CloudTrail record, as it appears in `Records[]` of a trail file or in the `CloudTrailEvent`
 * string of a LookupEvents result. Only the fields the analyzer reads are typed; the rest passes through.
 */
export interface CloudTrailRecord {
  eventVersion?: string;
  userIdentity?: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown> | null;
  requestID?: string;
  eventID?: string;
  readOnly?: boolean;
  eventType?: string;
  managementEvent?: boolean;
  recipientAccountId?: string;
  eventCategory?: string;
  [key: string]: unknown;
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** Most dangerous first: the order findings and the verdict are reported in. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export type Category =
  | 'persistence'
  | 'pivot'
  | 'privilege-escalation'
  | 'defense-evasion'
  | 'organization-change'
  | 'compute-hijacking'
  | 'ses-abuse'
  | 'credential-access'
  | 'exfiltration'
  | 'lateral-movement'
  | 'impact'
  | 'reconnaissance'
  /** A successful write the catalog does not classify: listed so no change goes unseen. */
  | 'other-change'
  /** AWS's quarantine and the responder's own containment actions. */
  | 'containment';

/**
 * The order of danger the report answers in (issue #5): a way back in, escalation, hiding, compute on
 * our bill, secrets, data out, and last "only looked around".
 */
export const CATEGORY_ORDER: readonly Category[] = [
  'persistence',
  'pivot',
  'privilege-escalation',
  'defense-evasion',
  'organization-change',
  'compute-hijacking',
  'ses-abuse',
  'credential-access',
  'exfiltration',
  'lateral-movement',
  'impact',
  'reconnaissance',
  'other-change',
  'containment',
];

/** Who made the call: the key's user (assumed hostile), AWS itself, or this responder. */
export type Actor = 'attacker' | 'aws' | 'responder';

export interface Finding {
  /** The CloudTrail eventID; for an access-denied burst, the first denied call's. */
  eventId: string;
  eventTime: string;
  region: string;
  /** `*` for an access-denied burst. */
  eventSource: string;
  /** As recorded (Lambda's version suffixes such as `20150331v2` kept); `AccessDeniedBurst` for a burst. */
  eventName: string;
  category: Category;
  severity: Severity;
  /** MITRE ATT&CK (Enterprise, cloud) technique id, `-` where no technique applies (containment). */
  technique: string;
  actor: Actor;
  /** The call returned an error: an attempt, reported one severity lower. */
  failed: boolean;
  why: string;
  /** What to do about it. */
  todo: string;
  /** Resources the call named or created (user names, instance ids, ARNs). */
  resources?: string[];
}

export interface SeenCount {
  value: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

export interface CreatedResource {
  /** e.g. `ec2:instance`, `iam:user`, `iam:access-key`. */
  type: string;
  id: string;
  region: string;
  eventName: string;
  eventId: string;
  eventTime: string;
  actor: Actor;
}

/** A credential minted by the investigated key: its activity is the attacker's too. */
export interface PivotKey {
  accessKeyId: string;
  /** `session`: STS temporary credentials (ASIA...); `access-key`: a new long-term key (AKIA...). */
  kind: 'session' | 'access-key';
  via: string;
  eventId: string;
  eventTime: string;
  /** Role, federated user or IAM user the credential belongs to, when the record names it. */
  principal?: string;
  expiration?: string;
}

export interface VerdictLine {
  category: Category;
  question: string;
  /** `yes`: at least one call succeeded; `attempted`: only failed calls; `no`: nothing seen. */
  answer: 'yes' | 'attempted' | 'no';
  findings: number;
  failed: number;
  /** Reconnaissance only: every read-only call the attacker made, flagged or not (failed ones included). */
  readCalls?: number;
  highestSeverity?: Severity;
  firstSeen?: string;
  lastSeen?: string;
}

export interface Summary {
  records: {
    /** Records handed to the analyzer. */
    seen: number;
    /** Records kept after the `keys` filter. */
    analyzed: number;
    /** Records whose access key was not one of `keys` (nor a pivot found on the way). */
    filteredOut: number;
    /** Objects without an eventSource and eventName string: not CloudTrail records. */
    invalid: number;
    byActor: Record<Actor, number>;
    readOnly: number;
    writes: number;
    failed: number;
  };
  /**
   * First and last call made by the attacker. This and the tables below count the attacker's calls
   * only: AWS's and the responder's calls are in `records.byActor`.
   */
  firstUse?: string;
  lastUse?: string;
  /** Failed share of the attacker's calls (0 when none). */
  errorRatio: number;
  errorCodes: SeenCount[];
  regions: SeenCount[];
  sourceIps: SeenCount[];
  userAgents: SeenCount[];
  accessKeys: SeenCount[];
  principals: SeenCount[];
  /** Calls made as the root user: a root key means every finding is worse. */
  rootCalls: number;
  /** Most frequent calls, `eventSource:eventName`. */
  topCalls: SeenCount[];
  resourcesCreated: CreatedResource[];
  pivotKeys: PivotKey[];
  findings: {
    total: number;
    /** Dropped lowest-severity first once `maxFindings` was reached; counted here. */
    omitted: number;
    bySeverity: Record<Severity, number>;
    byCategory: Partial<Record<Category, number>>;
  };
  /** The answer, in order of danger. */
  verdict: VerdictLine[];
  /** Set when a distinct-value table hit its cap: counts above are then partial for that table. */
  truncated?: string[];
}

/** Marks the report's picture draws at most (the earliest and the latest calls); the rest are counted, not drawn. */
export const TIMELINE_MARKS = 5000;

/** One call of the attacker (or one containment action of the responder), for the timeline picture. */
export interface CallMark {
  eventId: string;
  eventTime: string;
  region: string;
  /** The most severe finding's category; a call no rule classifies is reconnaissance (read) or other-change. */
  category: Category;
  severity: Severity;
  failed: boolean;
  eventName: string;
}

export interface AnalysisResult {
  findings: Finding[];
  summary: Summary;
  /** Present when `timelineCap` was set: every call, earliest first; past the cap the first and last halves. */
  timeline?: { marks: CallMark[]; omitted: number };
}
