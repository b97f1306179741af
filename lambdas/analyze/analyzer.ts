/**
 * The Analyze step's logic: classify CloudTrail records against the rule catalog, add the judgement a
 * table cannot make (attempts, access-denied bursts, who really acted), and summarize the key's use.
 *
 * Pure and incremental: `new Analyzer(options)`, `add(record)` per record in any order, `result()` at
 * the end. Memory is bounded by the number of findings (capped) and of distinct values in the summary
 * tables (capped), never by the number of records, so the step can stream events from S3.
 */
import { dig, listOf, type MatchContext, normalizeEventName, type Rule, RuleIndex } from './rules';
import {
  type Actor,
  type AnalysisResult,
  CATEGORY_ORDER,
  type CallMark,
  type Category,
  type CloudTrailRecord,
  type CreatedResource,
  type Finding,
  type PivotKey,
  SEVERITIES,
  type SeenCount,
  type Severity,
  type Summary,
  type VerdictLine,
} from './types';

/** The user agent the responder's own AWS clients send (`customUserAgent`), so its calls are told apart. */
export const RESPONDER_USER_AGENT = 'exposed-key-responder';

/** `eventSource` / `eventName` of an access-denied burst finding (its eventId is the first denied call's). */
export const BURST_SOURCE = '*';
export const BURST_NAME = 'AccessDeniedBurst';

/** Part of every role and session name the responder's stack creates (the stack is `ExposedKeyResponder`). */
export const RESPONDER_NAME = 'ExposedKeyResponder';

export interface AnalyzerOptions {
  /**
   * Keep only records made with these access key ids (and, with `followPivots`, the keys they mint).
   * Empty or absent: every record is the suspect activity.
   */
  keys?: readonly string[];
  /** Add session and access keys minted by a kept record to `keys` as they appear. Default true. */
  followPivots?: boolean;
  /**
   * The responder's role ARNs. When given, only sessions of these roles count as the responder;
   * otherwise the user agent and the `ExposedKeyResponder` name decide. Records made with an
   * investigated key are never the responder's, whatever their user agent says (it can be forged).
   */
  responderRoleArns?: readonly string[];
  /** Findings kept in memory; beyond it the lowest severities are dropped and counted. Default 100 000. */
  maxFindings?: number;
  /** Access-denied calls separated by at most `gapMinutes` form one burst; `threshold` of them is a finding. */
  burst?: { threshold?: number; gapMinutes?: number };
  /** Entries per summary table in the result (IPs, user agents...). Default 200. */
  listLimit?: number;
  /** Keep a mark per call for the timeline picture, at most this many (first and last halves). Default 0: none. */
  timelineCap?: number;
}

const DEFAULT_MAX_FINDINGS = 100_000;
const DEFAULT_BURST_THRESHOLD = 10;
const DEFAULT_BURST_GAP_MINUTES = 10;
const DEFAULT_LIST_LIMIT = 200;
/** Distinct values tracked per summary table; past it new values are counted under `(other)`. */
const DISTINCT_CAP = 10_000;
const RESOURCE_CAP = 10_000;
const PIVOT_CAP = 10_000;
const MAX_RESOURCES_PER_FINDING = 10;

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
const CATEGORY_RANK = new Map(CATEGORY_ORDER.map((c, i) => [c, i]));

const DENIED = /AccessDenied|Unauthorized|Forbidden|NotAuthorized|AuthorizationError/i;
const SERVICE_LINKED_ROLE = /:role\/aws-service-role\/|:assumed-role\/AWSServiceRoleFor/;
/**
 * Verbs of calls that only read. AWS API naming makes these reliable, more so than the `readOnly` flag
 * of hand-made or converted records, so a read verb wins over `readOnly: false`.
 */
const READ_NAME =
  /^(Get|List|Describe|Head|Lookup|Search|Check|Query|Scan|BatchGet|Select|View|Preview|Validate|Simulate|Estimate|Decrypt|Encrypt|GenerateDataKey|GenerateRandom|ReEncrypt|Sign|Verify|GenerateMac|VerifyMac|Decode|SwitchRole|ExitRole|CheckMfa)/;

const PIVOT_CALLS = new Set([
  'GetSessionToken',
  'GetFederationToken',
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'AssumeRoot',
]);

const QUESTIONS: Record<Category, string> = {
  persistence: 'Made a way back in (users, keys, passwords, trust, backdoors)',
  pivot: 'Minted new credentials or signed in to the console',
  'privilege-escalation': 'Gave themselves more permissions',
  'defense-evasion': 'Hid their tracks or switched off defenses',
  'organization-change': 'Changed the organization or account settings',
  'compute-hijacking': 'Ran compute or AI models on our bill',
  'ses-abuse': 'Abused SES or SMS to send messages',
  'credential-access': 'Read secrets or credentials',
  exfiltration: 'Shared or copied data out',
  'lateral-movement': 'Ran commands on or logged in to instances',
  impact: 'Deleted, encrypted or disabled things',
  reconnaissance: 'Looked around',
  'other-change': 'Made other changes',
  containment: 'Containment actions (AWS, the responder)',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** CloudTrail writes `2025-02-12T00:34:19Z`; other forms are normalized so times sort as strings. */
export function normalizeTime(value: unknown): string {
  if (typeof value !== 'string') return '';
  if (value.length === 20 && value[10] === 'T' && value[19] === 'Z') return value;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(value);
  if (match) return `${match[1]}T${match[2]}Z`;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** True for a call that changes something: never for a read verb, else CloudTrail's `readOnly` when present. */
export function isWrite(record: CloudTrailRecord): boolean {
  if (READ_NAME.test(record.eventName)) return false;
  if (typeof record.readOnly === 'boolean') return !record.readOnly;
  return true;
}

/**
 * Who made the call. AWS: a service principal, a service-linked role, or an anonymous `AWS Internal`
 * call. A service acting on a principal's behalf (`invokedBy` CloudFormation, `AWS Internal` console
 * calls) carries that principal's identity and stays the principal's: an attacker can route calls
 * through CloudFormation, so a service hostname never clears them.
 */
export function detectActor(
  record: CloudTrailRecord,
  options: { investigatedKey?: boolean; responderRoleArns?: readonly string[] } = {},
): Actor {
  if (options.investigatedKey) return 'attacker';
  const identity = record.userIdentity;
  const arn = identity?.arn ?? '';
  const issuer = identity?.sessionContext?.sessionIssuer?.arn ?? '';
  if (options.responderRoleArns && options.responderRoleArns.length > 0) {
    if (issuer !== '' && options.responderRoleArns.includes(issuer)) return 'responder';
  } else if (
    (record.userAgent ?? '').includes(RESPONDER_USER_AGENT) ||
    arn.includes(RESPONDER_NAME) ||
    issuer.includes(RESPONDER_NAME)
  ) {
    return 'responder';
  }
  if (identity?.type === 'AWSService') return 'aws';
  if (SERVICE_LINKED_ROLE.test(arn) || SERVICE_LINKED_ROLE.test(issuer)) return 'aws';
  if (
    !arn &&
    !identity?.accessKeyId &&
    identity?.type !== 'Root' &&
    record.sourceIPAddress === 'AWS Internal'
  ) {
    return 'aws';
  }
  return 'attacker';
}

function lowerSeverity(severity: Severity): Severity {
  return SEVERITIES[Math.min(SEVERITY_RANK[severity] + 1, SEVERITIES.length - 1)];
}

function capSeverity(severity: Severity, cap: Severity): Severity {
  return SEVERITY_RANK[severity] < SEVERITY_RANK[cap] ? cap : severity;
}

/** Counts of one value (an IP, a user agent...) with first and last time seen; bounded. */
class Tally {
  private readonly entries = new Map<string, { count: number; first: string; last: string }>();
  private otherCount = 0;
  private otherFirst = '';
  private otherLast = '';

  add(value: string, time: string): void {
    const entry = this.entries.get(value);
    if (entry) {
      entry.count++;
      if (time < entry.first) entry.first = time;
      if (time > entry.last) entry.last = time;
      return;
    }
    if (this.entries.size < DISTINCT_CAP) {
      this.entries.set(value, { count: 1, first: time, last: time });
      return;
    }
    this.otherCount++;
    if (this.otherFirst === '' || time < this.otherFirst) this.otherFirst = time;
    if (time > this.otherLast) this.otherLast = time;
  }

  get overflowed(): boolean {
    return this.otherCount > 0;
  }

  list(limit: number): SeenCount[] {
    const rows = [...this.entries].map(([value, e]) => ({
      value,
      count: e.count,
      firstSeen: e.first,
      lastSeen: e.last,
    }));
    rows.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
    const kept = rows.slice(0, limit);
    const dropped = rows.slice(limit);
    let otherCount = this.otherCount;
    let first = this.otherFirst;
    let last = this.otherLast;
    for (const row of dropped) {
      otherCount += row.count;
      if (first === '' || row.firstSeen < first) first = row.firstSeen;
      if (row.lastSeen > last) last = row.lastSeen;
    }
    if (otherCount > 0) kept.push({ value: '(other)', count: otherCount, firstSeen: first, lastSeen: last });
    return kept;
  }
}

interface DenialMinute {
  count: number;
  first: { time: string; id: string; region: string; source: string; name: string };
  last: string;
  services: Set<string>;
  regions: Set<string>;
}

interface CategoryStats {
  findings: number;
  failed: number;
  succeeded: number;
  highest?: Severity;
  first?: string;
  last?: string;
}

/**
 * Created-resource extractors: call name -> (kind, ids) read from the response (or the request when the
 * response does not echo it). The type reported is `<service>:<kind>`, e.g. `ec2:instance`.
 */
type Extractor = (response: Record<string, unknown>, params: Record<string, unknown>) => [string, unknown[]];
const CREATED: Record<string, Extractor> = {
  RunInstances: (r) => ['instance', listOf(dig(r, 'instancesSet')).map((i) => dig(i, 'instanceId'))],
  RequestSpotInstances: (r) => [
    'spot-request',
    listOf(dig(r, 'spotInstanceRequestSet')).map((i) => dig(i, 'spotInstanceRequestId')),
  ],
  RequestSpotFleet: (r) => ['spot-fleet', [dig(r, 'spotFleetRequestId')]],
  CreateFleet: (r) => ['fleet', [dig(r, 'fleetId') ?? dig(r, 'CreateFleetResponse', 'fleetId')]],
  CreateKeyPair: (r, p) => ['key-pair', [dig(r, 'keyName') ?? p.keyName ?? p.keyPairName]],
  ImportKeyPair: (r, p) => ['key-pair', [dig(r, 'keyName') ?? p.keyName]],
  CreateSecurityGroup: (r) => ['security-group', [dig(r, 'groupId')]],
  CreateLaunchTemplate: (r) => ['launch-template', [dig(r, 'launchTemplate', 'launchTemplateId')]],
  CreateSnapshot: (r) => ['snapshot', [dig(r, 'snapshotId')]],
  CopySnapshot: (r) => ['snapshot', [dig(r, 'snapshotId')]],
  CreateImage: (r) => ['image', [dig(r, 'imageId')]],
  CopyImage: (r) => ['image', [dig(r, 'imageId')]],
  CreateTrafficMirrorSession: (r) => [
    'traffic-mirror-session',
    [dig(r, 'trafficMirrorSession', 'trafficMirrorSessionId')],
  ],
  CreateTrafficMirrorTarget: (r) => [
    'traffic-mirror-target',
    [dig(r, 'trafficMirrorTarget', 'trafficMirrorTargetId')],
  ],
  CreateUser: (r, p) => ['user', [dig(r, 'user', 'userName') ?? p.userName]],
  CreateAccessKey: (r) => ['access-key', [dig(r, 'accessKey', 'accessKeyId')]],
  CreateLoginProfile: (r, p) => ['login-profile', [dig(r, 'loginProfile', 'userName') ?? p.userName]],
  CreateRole: (r, p) => ['role', [dig(r, 'role', 'arn') ?? p.roleName]],
  CreatePolicy: (r, p) => ['policy', [dig(r, 'policy', 'arn') ?? p.policyName]],
  CreateSAMLProvider: (r) => ['saml-provider', [dig(r, 'sAMLProviderArn')]],
  CreateOpenIDConnectProvider: (r) => ['oidc-provider', [dig(r, 'openIDConnectProviderArn')]],
  CreateVirtualMFADevice: (r) => ['mfa-device', [dig(r, 'virtualMFADevice', 'serialNumber')]],
  CreateFunction: (r, p) => ['function', [dig(r, 'functionArn') ?? p.functionName]],
  CreateStack: (r) => ['stack', [dig(r, 'stackId')]],
  CreateAutoScalingGroup: (_r, p) => ['group', [p.autoScalingGroupName]],
  CreateInstances: (_r, p) => ['instance', listOf(p.instanceNames)],
  RunTask: (r) => ['task', listOf(dig(r, 'tasks')).map((t) => dig(t, 'taskArn'))],
  CreateService: (r) => ['service', [dig(r, 'service', 'serviceArn')]],
  CreateCluster: (r) => ['cluster', [dig(r, 'cluster', 'clusterArn') ?? dig(r, 'cluster', 'arn')]],
  CreateNotebookInstance: (r) => ['notebook', [dig(r, 'notebookInstanceArn')]],
  CreateTrainingJob: (r) => ['training-job', [dig(r, 'trainingJobArn')]],
  CreateEndpoint: (r) => ['endpoint', [dig(r, 'endpointArn')]],
  CreateProcessingJob: (r) => ['processing-job', [dig(r, 'processingJobArn')]],
  CreateComputeEnvironment: (r) => ['compute-environment', [dig(r, 'computeEnvironmentArn')]],
  SubmitJob: (r) => ['job', [dig(r, 'jobId')]],
  CreateDBSnapshot: (r, p) => [
    'snapshot',
    [dig(r, 'dBSnapshotArn') ?? dig(r, 'dBSnapshot', 'dBSnapshotArn') ?? p.dBSnapshotIdentifier],
  ],
  RestoreDBInstanceFromDBSnapshot: (r, p) => [
    'instance',
    [dig(r, 'dBInstanceArn') ?? p.dBInstanceIdentifier],
  ],
  VerifyEmailIdentity: (_r, p) => ['identity', [p.emailAddress]],
  VerifyDomainIdentity: (_r, p) => ['identity', [p.domain]],
  CreateEmailIdentity: (_r, p) => ['identity', [p.emailIdentity]],
  CreateIPSet: (r) => ['ip-set', [dig(r, 'ipSetId')]],
  CreateTrail: (r) => ['trail', [dig(r, 'trailARN')]],
  CreateProvisionedModelThroughput: (r) => ['provisioned-throughput', [dig(r, 'provisionedModelArn')]],
};

const CREATE_VERB = /^(Create|Run|Request|Register|Import|Allocate|Launch|Copy|Restore)/;

/** For create-like calls the table above does not know: top-level `...Arn` / `...Id` strings of the response. */
function genericCreated(response: Record<string, unknown>): unknown[] {
  const ids: unknown[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (!isObject(value) || depth > 1 || ids.length >= 3) return;
    for (const [key, inner] of Object.entries(value)) {
      if (typeof inner === 'string' && /(Arn|ARN|Id)$/.test(key) && !/^requestId$/i.test(key))
        ids.push(inner);
      else visit(inner, depth + 1);
      if (ids.length >= 3) return;
    }
  };
  visit(response, 0);
  return ids;
}

/** Request parameters that name what a call acted on, in the order they are most telling. */
const TARGET_KEYS = [
  'userName',
  'roleName',
  'groupName',
  'policyArn',
  'policyName',
  'roleArn',
  'bucketName',
  'trailName',
  'name',
  'instanceId',
  'instanceIds',
  'instanceType',
  'snapshotId',
  'imageId',
  'functionName',
  'secretId',
  'keyId',
  'dBInstanceIdentifier',
  'dBClusterIdentifier',
  'dBSnapshotIdentifier',
  'detectorId',
  'groupId',
  'repositoryName',
  'queueUrl',
  'topicArn',
  'projectArn',
  'documentName',
  'stackName',
  'resourceArn',
  'names',
  'awsServiceName',
  'AWSServiceName',
  'modelId',
  'emailAddress',
  'domain',
];

function targetsOf(params: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of TARGET_KEYS) {
    for (const value of listOf(params[key])) {
      const text = typeof value === 'string' ? value : isObject(value) ? value.value : undefined;
      if (typeof text === 'string' && text !== '' && !out.includes(text)) out.push(text);
      if (out.length >= MAX_RESOURCES_PER_FINDING) return out;
    }
  }
  return out;
}

function emptyCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function byTime(a: { eventTime: string }, b: { eventTime: string }): number {
  return a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : 0;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** ISO 8601 UTC strings of one format sort as text; `<` is several times faster than localeCompare. */
function byEventTime(a: { eventTime: string }, b: { eventTime: string }): number {
  return a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : 0;
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    (CATEGORY_RANK.get(a.category) ?? 99) - (CATEGORY_RANK.get(b.category) ?? 99) ||
    byTime(a, b) ||
    a.eventId.localeCompare(b.eventId)
  );
}

const defaultIndex = new RuleIndex();

export class Analyzer {
  private readonly keys: Set<string>;
  private readonly followPivots: boolean;
  private readonly responderRoleArns?: readonly string[];
  private readonly maxFindings: number;
  private readonly burstThreshold: number;
  private readonly burstGapMinutes: number;
  private readonly listLimit: number;
  private readonly index: RuleIndex;
  private readonly timelineCap: number;
  private readonly marks: CallMark[] = [];
  private marksOmitted = 0;

  /** Findings per severity, so the lowest can be dropped in O(1) when the cap is reached. */
  private readonly findingsBySeverity: Record<Severity, Finding[]> = {
    critical: [],
    high: [],
    medium: [],
    low: [],
    info: [],
  };
  private storedFindings = 0;
  private omittedFindings = 0;
  private readonly severityCounts = emptyCounts(SEVERITIES);
  private readonly categoryCounts: Partial<Record<Category, number>> = {};
  private readonly categoryStats = new Map<Category, CategoryStats>();

  private seen = 0;
  private invalid = 0;
  private analyzed = 0;
  private filteredOut = 0;
  private readonly byActor: Record<Actor, number> = { attacker: 0, aws: 0, responder: 0 };
  private readOnlyCount = 0;
  private writeCount = 0;
  private failedCount = 0;
  private attackerCalls = 0;
  private attackerFailed = 0;
  private attackerReads = 0;
  private attackerReadsFailed = 0;
  private rootCalls = 0;
  private firstUse = '';
  private lastUse = '';

  private readonly errorCodes = new Tally();
  private readonly regions = new Tally();
  private readonly sourceIps = new Tally();
  private readonly userAgents = new Tally();
  private readonly accessKeys = new Tally();
  private readonly principals = new Tally();
  private readonly calls = new Tally();

  private readonly created: CreatedResource[] = [];
  private createdOmitted = 0;
  private readonly pivots = new Map<string, PivotKey>();
  /** Records dropped by the key filter, per key: tells whether a later pivot needs a second pass. */
  private readonly filteredKeys = new Map<string, number>();
  private readonly denials = new Map<number, DenialMinute>();
  private lastDenialPrefix = '';
  private lastDenialMinute = 0;

  constructor(options: AnalyzerOptions = {}, index: RuleIndex = defaultIndex) {
    this.keys = new Set(options.keys ?? []);
    this.followPivots = options.followPivots ?? true;
    this.responderRoleArns = options.responderRoleArns;
    this.maxFindings = options.maxFindings ?? DEFAULT_MAX_FINDINGS;
    this.burstThreshold = options.burst?.threshold ?? DEFAULT_BURST_THRESHOLD;
    this.burstGapMinutes = options.burst?.gapMinutes ?? DEFAULT_BURST_GAP_MINUTES;
    this.listLimit = options.listLimit ?? DEFAULT_LIST_LIMIT;
    this.index = index;
    this.timelineCap = options.timelineCap ?? 0;
  }

  add(record: CloudTrailRecord): void {
    this.seen++;
    if (!isObject(record) || typeof record.eventName !== 'string' || typeof record.eventSource !== 'string') {
      this.invalid++;
      return;
    }
    const keyId = record.userIdentity?.accessKeyId;
    if (this.keys.size > 0) {
      if (typeof keyId !== 'string' || !this.keys.has(keyId)) {
        this.filteredOut++;
        if (
          typeof keyId === 'string' &&
          (this.filteredKeys.has(keyId) || this.filteredKeys.size < DISTINCT_CAP)
        ) {
          this.filteredKeys.set(keyId, (this.filteredKeys.get(keyId) ?? 0) + 1);
        }
        return;
      }
    }
    this.analyzed++;
    const actor = detectActor(record, {
      investigatedKey: this.keys.size > 0,
      responderRoleArns: this.responderRoleArns,
    });
    const failed = typeof record.errorCode === 'string' && record.errorCode !== '';
    const time = normalizeTime(record.eventTime);
    const write = isWrite(record);

    this.byActor[actor]++;
    if (write) this.writeCount++;
    else this.readOnlyCount++;
    if (failed) this.failedCount++;
    if (actor === 'attacker') {
      this.tallyAttackerCall(record, time, failed, keyId);
      if (!write) {
        this.attackerReads++;
        if (failed) this.attackerReadsFailed++;
      }
    }

    const found = this.classify(record, actor, failed, time, write);
    for (const finding of found) this.keep(finding);
    // A record without a readable time cannot be placed on the picture.
    if (this.timelineCap > 0 && ISO_TIME.test(time) && (actor === 'attacker' || found.length > 0)) {
      this.mark(record, time, failed, write, found);
    }
    if (!failed) {
      // Only writes create resources; credentials also come from Get* calls (GetSessionToken).
      if (write) this.collectCreated(record, actor, time);
      if (actor === 'attacker') this.collectPivots(record, time);
    }
  }

  /** Pivot keys minted by kept records whose own records were filtered out earlier: read the input again. */
  pivotsNeedingSecondPass(): string[] {
    return [...this.pivots.keys()].filter((key) => this.filteredKeys.has(key));
  }

  result(): AnalysisResult {
    const categoryStats = new Map([...this.categoryStats].map(([k, v]) => [k, { ...v }]));
    const severityCounts = { ...this.severityCounts };
    const categoryCounts = { ...this.categoryCounts };
    const bursts = this.burstFindings();
    for (const burst of bursts) {
      severityCounts[burst.severity]++;
      categoryCounts[burst.category] = (categoryCounts[burst.category] ?? 0) + 1;
      updateStats(categoryStats, burst);
    }
    const findings = [...SEVERITIES.flatMap((s) => this.findingsBySeverity[s]), ...bursts].sort(
      compareFindings,
    );

    const truncated: string[] = [];
    const tables = {
      errorCodes: this.errorCodes,
      regions: this.regions,
      sourceIps: this.sourceIps,
      userAgents: this.userAgents,
      accessKeys: this.accessKeys,
      principals: this.principals,
      topCalls: this.calls,
    };
    for (const [name, tally] of Object.entries(tables)) if (tally.overflowed) truncated.push(name);
    if (this.createdOmitted > 0) truncated.push('resourcesCreated');
    if (this.pivots.size >= PIVOT_CAP) truncated.push('pivotKeys');

    const summary: Summary = {
      records: {
        seen: this.seen,
        analyzed: this.analyzed,
        filteredOut: this.filteredOut,
        invalid: this.invalid,
        byActor: { ...this.byActor },
        readOnly: this.readOnlyCount,
        writes: this.writeCount,
        failed: this.failedCount,
      },
      firstUse: this.firstUse || undefined,
      lastUse: this.lastUse || undefined,
      errorRatio: this.attackerCalls === 0 ? 0 : this.attackerFailed / this.attackerCalls,
      errorCodes: this.errorCodes.list(this.listLimit),
      regions: this.regions.list(this.listLimit),
      sourceIps: this.sourceIps.list(this.listLimit),
      userAgents: this.userAgents.list(this.listLimit),
      accessKeys: this.accessKeys.list(this.listLimit),
      principals: this.principals.list(this.listLimit),
      rootCalls: this.rootCalls,
      topCalls: this.calls.list(Math.min(25, this.listLimit)),
      resourcesCreated: [...this.created].sort(byTime),
      pivotKeys: [...this.pivots.values()].sort(byTime),
      findings: {
        total: this.storedFindings + this.omittedFindings + bursts.length,
        omitted: this.omittedFindings,
        bySeverity: severityCounts,
        byCategory: categoryCounts,
      },
      verdict: verdictOf(categoryStats, { calls: this.attackerReads, failed: this.attackerReadsFailed }),
    };
    if (truncated.length > 0) summary.truncated = truncated;
    if (this.timelineCap === 0) return { findings, summary };
    this.trimMarks();
    const marks = [...this.marks].sort(byEventTime);
    return { findings, summary, timeline: { marks, omitted: this.marksOmitted } };
  }

  private tallyAttackerCall(record: CloudTrailRecord, time: string, failed: boolean, keyId: unknown): void {
    this.attackerCalls++;
    if (this.firstUse === '' || time < this.firstUse) this.firstUse = time;
    if (time > this.lastUse) this.lastUse = time;
    const region = record.awsRegion ?? 'unknown';
    this.regions.add(region, time);
    this.sourceIps.add(record.sourceIPAddress ?? 'unknown', time);
    this.userAgents.add(record.userAgent ?? 'unknown', time);
    if (typeof keyId === 'string') this.accessKeys.add(keyId, time);
    const identity = record.userIdentity;
    this.principals.add(identity?.arn ?? identity?.type ?? 'unknown', time);
    if (identity?.type === 'Root') this.rootCalls++;
    this.calls.add(`${record.eventSource}:${record.eventName}`, time);
    if (!failed) return;
    this.attackerFailed++;
    const code = record.errorCode as string;
    this.errorCodes.add(code, time);
    if (DENIED.test(code)) this.noteDenial(record, time, region);
  }

  private noteDenial(record: CloudTrailRecord, time: string, region: string): void {
    // Denials come in runs within the same minute: parse each minute once.
    const prefix = time.slice(0, 16);
    if (prefix !== this.lastDenialPrefix) {
      const ms = Date.parse(`${prefix}:00Z`);
      if (Number.isNaN(ms)) return;
      this.lastDenialPrefix = prefix;
      this.lastDenialMinute = Math.floor(ms / 60_000);
    }
    const minute = this.lastDenialMinute;
    const service = record.eventSource.replace('.amazonaws.com', '');
    const bucket = this.denials.get(minute);
    const first = {
      time,
      id: record.eventID ?? '',
      region,
      source: record.eventSource,
      name: record.eventName,
    };
    if (!bucket) {
      this.denials.set(minute, {
        count: 1,
        first,
        last: time,
        services: new Set([service]),
        regions: new Set([region]),
      });
      return;
    }
    bucket.count++;
    if (time < bucket.first.time) bucket.first = first;
    if (time > bucket.last) bucket.last = time;
    if (bucket.services.size < 50) bucket.services.add(service);
    if (bucket.regions.size < 50) bucket.regions.add(region);
  }

  /** Denied calls no more than `gapMinutes` apart form a burst; `threshold` or more is reconnaissance. */
  private burstFindings(): Finding[] {
    const minutes = [...this.denials.keys()].sort((a, b) => a - b);
    const findings: Finding[] = [];
    let run: DenialMinute[] = [];
    let previous = Number.NEGATIVE_INFINITY;
    const flush = () => {
      const count = run.reduce((n, m) => n + m.count, 0);
      if (count >= this.burstThreshold) findings.push(this.burstFinding(run, count));
      run = [];
    };
    for (const minute of minutes) {
      if (minute - previous > this.burstGapMinutes) flush();
      run.push(this.denials.get(minute) as DenialMinute);
      previous = minute;
    }
    flush();
    return findings;
  }

  private burstFinding(run: DenialMinute[], count: number): Finding {
    const first = run[0].first;
    const last = run[run.length - 1].last;
    const services = new Set(run.flatMap((m) => [...m.services]));
    const regions = new Set(run.flatMap((m) => [...m.regions]));
    const serviceList = [...services].slice(0, 8).join(', ');
    return {
      eventId: first.id,
      eventTime: first.time,
      region: first.region,
      eventSource: BURST_SOURCE,
      eventName: BURST_NAME,
      category: 'reconnaissance',
      severity: count >= 100 ? 'medium' : 'low',
      technique: 'T1526',
      actor: 'attacker',
      failed: true,
      why:
        `Burst of ${count} access-denied calls from ${first.time} to ${last} across ${services.size} ` +
        `service(s) (${serviceList}${services.size > 8 ? ', ...' : ''}) in ${regions.size} region(s): ` +
        'someone is testing what the key may do (enumerate-iam, Pacu, scanners).',
      todo: 'Nothing was changed by these calls; compare with the successful calls around them to see what they found.',
      resources: [`first denied call: ${first.source.replace('.amazonaws.com', '')}:${first.name}`],
    };
  }

  private classify(
    record: CloudTrailRecord,
    actor: Actor,
    failed: boolean,
    time: string,
    write: boolean,
  ): Finding[] {
    const params = isObject(record.requestParameters) ? record.requestParameters : {};
    const response = isObject(record.responseElements) ? record.responseElements : {};
    const ctx: MatchContext = {
      record,
      params,
      response,
      accountId: record.recipientAccountId ?? record.userIdentity?.accountId,
    };
    const rules = this.index.match(ctx, record.eventSource, record.eventName);
    if (actor === 'responder') {
      if (rules.length === 0 && (!write || failed)) return [];
      return [this.responderFinding(record, time, failed, params, response)];
    }
    if (rules.length === 0) {
      if (actor !== 'attacker' || !write) return [];
      return [this.otherChangeFinding(record, time, failed, params, response)];
    }
    return rules.map((rule) => this.finding(rule, record, actor, failed, time, params, response));
  }

  private finding(
    rule: Rule,
    record: CloudTrailRecord,
    actor: Actor,
    failed: boolean,
    time: string,
    params: Record<string, unknown>,
    response: Record<string, unknown>,
  ): Finding {
    let severity = rule.severity;
    let why = rule.why;
    if (failed) {
      severity = lowerSeverity(severity);
      why = /DryRunOperation/.test(record.errorCode ?? '')
        ? `Dry run only, but it shows the key holds this permission. ${why}`
        : `Attempted, failed (${record.errorCode}). ${why}`;
    }
    if (actor === 'aws' && rule.category !== 'containment') {
      severity = capSeverity(severity, 'low');
      const who =
        record.userIdentity?.sessionContext?.sessionIssuer?.userName ?? record.userIdentity?.invokedBy;
      why = `Made by AWS${who ? ` (${who})` : ''}, not with the key; look for the call that set it up. ${why}`;
    }
    return this.build(
      record,
      time,
      actor,
      failed,
      rule.category,
      severity,
      rule.technique,
      why,
      rule.todo,
      params,
      response,
    );
  }

  private responderFinding(
    record: CloudTrailRecord,
    time: string,
    failed: boolean,
    params: Record<string, unknown>,
    response: Record<string, unknown>,
  ): Finding {
    const why = failed
      ? `The responder's own ${record.eventName} failed (${record.errorCode}): containment may be incomplete.`
      : `The responder's own ${record.eventName}: containment, not the attacker.`;
    return this.build(
      record,
      time,
      'responder',
      failed,
      'containment',
      failed ? 'medium' : 'info',
      '-',
      why,
      failed ? "Check the responder's alert for what was not done and finish it by hand." : 'Nothing to do.',
      params,
      response,
    );
  }

  /** Writes the catalog does not classify: listed so no change (or attempted change) goes unseen. */
  private otherChangeFinding(
    record: CloudTrailRecord,
    time: string,
    failed: boolean,
    params: Record<string, unknown>,
    response: Record<string, unknown>,
  ): Finding {
    return this.build(
      record,
      time,
      'attacker',
      failed,
      'other-change',
      failed ? 'info' : 'low',
      '-',
      failed
        ? `Attempted, failed (${record.errorCode}): a change the catalog does not classify.`
        : 'A change made with the key that the catalog does not classify: listed so that no change goes unseen.',
      failed
        ? 'Nothing changed; note what they tried.'
        : 'Check what it changed and revert it unless the owner made it.',
      params,
      response,
    );
  }

  private build(
    record: CloudTrailRecord,
    time: string,
    actor: Actor,
    failed: boolean,
    category: Category,
    severity: Severity,
    technique: string,
    why: string,
    todo: string,
    params: Record<string, unknown>,
    response: Record<string, unknown>,
  ): Finding {
    const finding: Finding = {
      eventId: record.eventID ?? '',
      eventTime: time,
      region: record.awsRegion ?? 'unknown',
      eventSource: record.eventSource,
      eventName: record.eventName,
      category,
      severity,
      technique,
      actor,
      failed,
      why,
      todo,
    };
    const resources = targetsOf(params);
    if (!failed) {
      for (const { id } of this.createdBy(record, params, response)) {
        if (resources.length >= MAX_RESOURCES_PER_FINDING) break;
        if (!resources.includes(id)) resources.push(id);
      }
    }
    if (resources.length > 0) finding.resources = resources;
    return finding;
  }

  /** Past the cap the latest marks give way: the first calls tell how the attack began. */
  private mark(
    record: CloudTrailRecord,
    time: string,
    failed: boolean,
    write: boolean,
    found: Finding[],
  ): void {
    const worst = found.reduce<Finding | undefined>(
      (w, f) => (!w || SEVERITY_RANK[f.severity] < SEVERITY_RANK[w.severity] ? f : w),
      undefined,
    );
    const mark: CallMark = {
      eventId: record.eventID ?? '',
      eventTime: time,
      region: record.awsRegion ?? 'unknown',
      category: worst?.category ?? (write ? 'other-change' : 'reconnaissance'),
      severity: worst?.severity ?? 'info',
      failed,
      eventName: record.eventName,
    };
    this.marks.push(mark);
    if (this.marks.length >= 2 * this.timelineCap) this.trimMarks();
  }

  /**
   * Keeps the earliest and the latest half of the cap: how the attack began, and what it did last (after
   * containment, if anything). Batched, so amortized O(log cap) a call however long the key was used.
   */
  private trimMarks(): void {
    if (this.marks.length <= this.timelineCap) return;
    this.marks.sort(byEventTime);
    const head = Math.ceil(this.timelineCap / 2);
    this.marksOmitted += this.marks.length - this.timelineCap;
    this.marks.splice(head, this.marks.length - this.timelineCap);
  }

  private keep(finding: Finding): void {
    this.severityCounts[finding.severity]++;
    this.categoryCounts[finding.category] = (this.categoryCounts[finding.category] ?? 0) + 1;
    if (finding.actor === 'attacker') updateStats(this.categoryStats, finding);
    if (this.storedFindings >= this.maxFindings) {
      const lowest = [...SEVERITIES].reverse().find((s) => this.findingsBySeverity[s].length > 0);
      if (!lowest || SEVERITY_RANK[lowest] <= SEVERITY_RANK[finding.severity]) {
        this.omittedFindings++;
        return;
      }
      this.findingsBySeverity[lowest].pop();
      this.storedFindings--;
      this.omittedFindings++;
    }
    this.findingsBySeverity[finding.severity].push(finding);
    this.storedFindings++;
  }

  private createdBy(
    record: CloudTrailRecord,
    params: Record<string, unknown>,
    response: Record<string, unknown>,
  ): { type: string; id: string }[] {
    const name = normalizeEventName(record.eventName);
    const extractor = CREATED[name];
    if (!extractor && !CREATE_VERB.test(name)) return [];
    const service = record.eventSource.split('.')[0];
    let [kind, ids] = extractor ? extractor(response, params) : [name, []];
    ids = ids.filter((id) => typeof id === 'string' && id !== '');
    if (ids.length === 0) {
      ids = genericCreated(response);
      if (!extractor) kind = name;
    }
    return (ids as string[]).map((id) => ({ type: `${service}:${kind}`, id }));
  }

  private collectCreated(record: CloudTrailRecord, actor: Actor, time: string): void {
    if (actor === 'responder') return;
    const params = isObject(record.requestParameters) ? record.requestParameters : {};
    const response = isObject(record.responseElements) ? record.responseElements : {};
    for (const { type, id } of this.createdBy(record, params, response)) {
      if (this.created.length >= RESOURCE_CAP) {
        this.createdOmitted++;
        continue;
      }
      this.created.push({
        type,
        id,
        region: record.awsRegion ?? 'unknown',
        eventName: record.eventName,
        eventId: record.eventID ?? '',
        eventTime: time,
        actor,
      });
    }
  }

  private collectPivots(record: CloudTrailRecord, time: string): void {
    const name = record.eventName;
    const response = record.responseElements;
    if (!isObject(response)) return;
    let pivot: PivotKey | undefined;
    if (PIVOT_CALLS.has(name) && record.eventSource === 'sts.amazonaws.com') {
      const accessKeyId = dig(response, 'credentials', 'accessKeyId');
      if (typeof accessKeyId !== 'string' || accessKeyId === '') return;
      const principal = dig(response, 'assumedRoleUser', 'arn') ?? dig(response, 'federatedUser', 'arn');
      const expiration = dig(response, 'credentials', 'expiration');
      pivot = {
        accessKeyId,
        kind: 'session',
        via: name,
        eventId: record.eventID ?? '',
        eventTime: time,
        principal: typeof principal === 'string' ? principal : record.userIdentity?.arn,
        expiration: typeof expiration === 'string' ? expiration : undefined,
      };
    } else if (name === 'CreateAccessKey' && record.eventSource === 'iam.amazonaws.com') {
      const accessKeyId = dig(response, 'accessKey', 'accessKeyId');
      if (typeof accessKeyId !== 'string' || accessKeyId === '') return;
      const userName = dig(response, 'accessKey', 'userName') ?? record.requestParameters?.userName;
      pivot = {
        accessKeyId,
        kind: 'access-key',
        via: name,
        eventId: record.eventID ?? '',
        eventTime: time,
        principal: typeof userName === 'string' ? userName : record.userIdentity?.arn,
      };
    }
    if (!pivot || this.pivots.has(pivot.accessKeyId) || this.pivots.size >= PIVOT_CAP) return;
    if (pivot.expiration === undefined) delete pivot.expiration;
    if (pivot.principal === undefined) delete pivot.principal;
    this.pivots.set(pivot.accessKeyId, pivot);
    if (this.followPivots && this.keys.size > 0) this.keys.add(pivot.accessKeyId);
  }
}

function updateStats(stats: Map<Category, CategoryStats>, finding: Finding): void {
  let entry = stats.get(finding.category);
  if (!entry) {
    entry = { findings: 0, failed: 0, succeeded: 0 };
    stats.set(finding.category, entry);
  }
  entry.findings++;
  if (finding.failed) entry.failed++;
  else entry.succeeded++;
  if (!entry.highest || SEVERITY_RANK[finding.severity] < SEVERITY_RANK[entry.highest]) {
    entry.highest = finding.severity;
  }
  if (!entry.first || finding.eventTime < entry.first) entry.first = finding.eventTime;
  if (!entry.last || finding.eventTime > entry.last) entry.last = finding.eventTime;
}

/**
 * The attacker's answer per category, in the order of danger; containment is not the attacker's.
 * "Looked around" also counts read-only calls the catalog does not flag: thousands of Describe calls
 * are still looking around.
 */
function verdictOf(
  stats: Map<Category, CategoryStats>,
  reads: { calls: number; failed: number },
): VerdictLine[] {
  return CATEGORY_ORDER.filter((c) => c !== 'containment').map((category) => {
    const entry = stats.get(category);
    let answer: VerdictLine['answer'] = !entry ? 'no' : entry.succeeded > 0 ? 'yes' : 'attempted';
    if (category === 'reconnaissance' && reads.calls > 0 && answer !== 'yes') {
      answer = reads.calls > reads.failed ? 'yes' : 'attempted';
    }
    const line: VerdictLine = {
      category,
      question: QUESTIONS[category],
      answer,
      findings: entry?.findings ?? 0,
      failed: entry?.failed ?? 0,
    };
    if (category === 'reconnaissance') line.readCalls = reads.calls;
    if (entry?.highest) line.highestSeverity = entry.highest;
    if (entry?.first) line.firstSeen = entry.first;
    if (entry?.last) line.lastSeen = entry.last;
    return line;
  });
}

/** Analyzes a finite set of records in one call. */
export function analyzeRecords(
  records: Iterable<CloudTrailRecord>,
  options: AnalyzerOptions = {},
): AnalysisResult {
  const analyzer = new Analyzer(options);
  for (const record of records) analyzer.add(record);
  return analyzer.result();
}

/** Same, for a stream (S3 object body, file reader). */
export async function analyzeRecordStream(
  records: AsyncIterable<CloudTrailRecord>,
  options: AnalyzerOptions = {},
): Promise<AnalysisResult> {
  const analyzer = new Analyzer(options);
  for await (const record of records) analyzer.add(record);
  return analyzer.result();
}
