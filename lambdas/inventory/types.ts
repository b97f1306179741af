/**
 * Contracts of the Inventory step: what exists in the account now, and which of it the leaked key (or a
 * key it minted) made or changed. Readers list resources without attribution; `attribute` joins them with
 * the evidence index built from the key's CloudTrail records.
 */

/** True: the key's own call made or changed it (see `evidenceEventId`). False: only for guard rails the key left alone. */
export type Attribution = true | false | 'unknown';

export type InventoryService =
  | 'ec2'
  | 'iam'
  | 'ses'
  | 'lightsail'
  | 'cloudtrail'
  | 'guardduty'
  | 'lambda'
  | 'sagemaker'
  | 'ecs'
  | 'codebuild';

export type ItemType =
  // ec2
  | 'instance'
  | 'spot-request'
  | 'key-pair'
  | 'security-group'
  | 'image'
  | 'snapshot'
  | 'volume'
  // iam
  | 'user'
  | 'access-key'
  | 'login-profile'
  | 'role'
  | 'policy'
  | 'policy-version'
  | 'oidc-provider'
  | 'saml-provider'
  // ses
  | 'identity'
  | 'sending'
  // lambda
  | 'function'
  | 'function-url'
  | 'function-permission'
  // sagemaker
  | 'notebook-instance'
  | 'training-job'
  | 'endpoint'
  // ecs (services and tasks are named `cluster/name`: names are unique per cluster only)
  | 'cluster'
  | 'ecs-service'
  | 'task'
  // codebuild
  | 'project'
  // cloudtrail trails and guardduty detectors
  | 'guard-rail';

/** Regional items carry their Region; IAM items carry this. */
export const GLOBAL_REGION = 'global';
/** IAM is global; its control plane (and CloudTrail's record of it) lives in us-east-1 in the aws partition. */
export const IAM_HOME_REGION = 'us-east-1';
/** The id of an SES Region's sending item (one per Region). */
export const SES_SENDING_ID = 'account-sending';

export interface InventoryItem {
  service: InventoryService;
  type: ItemType;
  /** The identifier the clean-up command takes (instance id, key name, user name, policy ARN, ...). */
  id: string;
  arn?: string;
  /** An AWS Region, or `global` for IAM. */
  region: string;
  /** ISO 8601, when the API tells; absent for resources AWS does not date (security groups, SES identities). */
  createdAt?: string;
  createdByKey: Attribution;
  /** The CloudTrail event that shows the key making or changing the item. */
  evidenceEventId?: string;
  /** Compute only: an approximate list price (see pricing.ts for the table's date and basis). */
  estimatedHourlyUsd?: number;
  /** An AWS CLI line a person can review and run; nothing is ever run automatically. */
  cleanup: string;
  consoleUrl: string;
  details?: Record<string, unknown>;
}

/** What one reader found for one service in one Region. */
export interface ReaderResult {
  service: string;
  region: string;
  items: InventoryItem[];
  /** False when part of the service could not be read (see `error`): the items are what could be read. */
  complete: boolean;
  error?: string;
  /** Requests sent, retries included. */
  apiCalls: number;
  /** Why the reader did nothing here on purpose (IAM outside its home Region, Lightsail where it is not offered). */
  skipped?: string;
}

/** One call of the key that made or changed a resource. */
export interface Evidence {
  eventId: string;
  eventName: string;
  eventTime: string;
  /** The key that made the call: the leaked key or one it minted. */
  accessKeyId: string;
  /** The Region of the call (IAM calls are recorded in us-east-1). */
  region: string;
  /** True for a creating call (RunInstances), false for a change to something that existed (AuthorizeSecurityGroupIngress). */
  created: boolean;
}

export type GuardRailKind = 'trail' | 'detector';
export type GuardRailAction = 'stopped' | 'deleted' | 'selectors-changed' | 'updated' | 'disabled';

/** A call of the key that weakened a guard rail: a trail stopped, changed or deleted, a detector disabled or deleted. */
export interface GuardRailEvidence extends Evidence {
  kind: GuardRailKind;
  /** As the call named it: trail name or ARN, detector id. */
  target: string;
  action: GuardRailAction;
}

/**
 * The key's footprint, built from its CloudTrail records by `buildEvidenceIndex`: per resource (see
 * `resourceKey` in attribution.ts) the calls that made or changed it, oldest first, and the guard-rail calls.
 */
export interface EvidenceIndex {
  resources: Map<string, Evidence[]>;
  guardRails: GuardRailEvidence[];
  /** Records read, and how many of them made or changed something the index tracks. */
  records: number;
  indexed: number;
}
