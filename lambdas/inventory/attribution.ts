/**
 * Attribution: which inventory items the leaked key (or a key it minted) made or changed, and which guard
 * rails it switched off. The evidence is the key's own CloudTrail records, as the Collect step stored
 * them; a resource is the key's when one of its successful calls names the resource's id.
 *
 *   const index = buildEvidenceIndex(records, { keys: [leakedKey, ...pivotKeys] });
 *   const report = attribute(items, index, exposureStart, { completeRegions });
 */
import { deletedTrailCleanup, detectorCleanup, iamRoleTrustRestore } from './cleanup';
import {
  type Evidence,
  type EvidenceIndex,
  GLOBAL_REGION,
  type GuardRailAction,
  type GuardRailEvidence,
  type GuardRailKind,
  IAM_HOME_REGION,
  type InventoryItem,
  type InventoryService,
  type ItemType,
  SES_SENDING_ID,
} from './types';

/** The fields of a CloudTrail record this module reads; the rest passes through untouched. */
export interface TrailRecord {
  eventID?: string;
  eventName?: string;
  eventSource?: string;
  eventTime?: string;
  awsRegion?: string;
  errorCode?: string;
  userIdentity?: { accessKeyId?: string; [key: string]: unknown } | null;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** The key under which the index and the inventory meet. IAM ids are global. */
export function resourceKey(service: InventoryService, type: ItemType, region: string, id: string): string {
  return `${service}/${type}/${region}/${id}`;
}

interface Target {
  service: InventoryService;
  type: ItemType;
  id: string;
  created: boolean;
}

type Rule = (req: Record<string, unknown>, res: Record<string, unknown>) => Target[];

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const obj = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
/** EC2 records lists as `{ items: [...] }`. */
const ec2Items = (value: unknown): Record<string, unknown>[] => {
  const items = obj(value).items;
  return Array.isArray(items) ? items.map(obj) : [];
};
const one = (service: InventoryService, type: ItemType, id: unknown, created: boolean): Target[] => {
  const value = str(id);
  return value ? [{ service, type, id: value, created }] : [];
};
const many = (service: InventoryService, type: ItemType, ids: unknown[], created: boolean): Target[] =>
  ids.flatMap((id) => one(service, type, id, created));

/** A Lambda function named by name, partial or full ARN; the inventory uses the bare name. */
function functionName(value: unknown): string | undefined {
  const name = str(value);
  if (!name) return undefined;
  const match = /(?:^|:)function:([^:]+)/.exec(name);
  return match ? match[1] : name;
}

/**
 * Calls that make or change a resource, by `eventSource eventName`. Lambda's event names carry an API
 * version (CreateFunction20150331, AddPermission20150331v2) that is stripped before the lookup, so a new
 * version suffix does not silently stop attribution.
 */
const RULES: Record<string, Rule> = {
  'ec2 RunInstances': (_q, s) =>
    many(
      'ec2',
      'instance',
      ec2Items(s.instancesSet).map((i) => i.instanceId),
      true,
    ),
  // Starting an owner's stopped instance, or changing its user data first, puts it to the attacker's work.
  'ec2 StartInstances': (q) =>
    many(
      'ec2',
      'instance',
      ec2Items(q.instancesSet).map((i) => i.instanceId),
      false,
    ),
  'ec2 ModifyInstanceAttribute': (q) => one('ec2', 'instance', q.instanceId, false),
  'ec2 RequestSpotInstances': (_q, s) =>
    many(
      'ec2',
      'spot-request',
      ec2Items(s.spotInstanceRequestSet).map((i) => i.spotInstanceRequestId),
      true,
    ),
  'ec2 CreateKeyPair': (q, s) => one('ec2', 'key-pair', q.keyName ?? s.keyName, true),
  'ec2 ImportKeyPair': (q, s) => one('ec2', 'key-pair', q.keyName ?? s.keyName, true),
  'ec2 CreateSecurityGroup': (_q, s) => one('ec2', 'security-group', s.groupId, true),
  'ec2 AuthorizeSecurityGroupIngress': (q) => one('ec2', 'security-group', q.groupId, false),
  'ec2 CreateImage': (_q, s) => one('ec2', 'image', s.imageId, true),
  'ec2 CopyImage': (_q, s) => one('ec2', 'image', s.imageId, true),
  'ec2 RegisterImage': (_q, s) => one('ec2', 'image', s.imageId, true),
  'ec2 ModifyImageAttribute': (q) => one('ec2', 'image', q.imageId, false),
  'ec2 CreateSnapshot': (_q, s) => one('ec2', 'snapshot', s.snapshotId, true),
  'ec2 CopySnapshot': (_q, s) => one('ec2', 'snapshot', s.snapshotId, true),
  'ec2 CreateSnapshots': (_q, s) =>
    many(
      'ec2',
      'snapshot',
      ec2Items(s.snapshotSet).map((i) => i.snapshotId),
      true,
    ),
  'ec2 ModifySnapshotAttribute': (q) => one('ec2', 'snapshot', q.snapshotId, false),
  'ec2 CreateVolume': (_q, s) => one('ec2', 'volume', s.volumeId, true),

  'iam CreateUser': (q) => one('iam', 'user', q.userName, true),
  'iam CreateAccessKey': (_q, s) => one('iam', 'access-key', obj(s.accessKey).accessKeyId, true),
  // Re-enabling an old, deactivated key is persistence without a new key.
  'iam UpdateAccessKey': (q) => (q.status === 'Active' ? one('iam', 'access-key', q.accessKeyId, false) : []),
  'iam CreateLoginProfile': (q) => one('iam', 'login-profile', q.userName, true),
  'iam UpdateLoginProfile': (q) => one('iam', 'login-profile', q.userName, false),
  'iam CreateRole': (q) => one('iam', 'role', q.roleName, true),
  'iam UpdateAssumeRolePolicy': (q) => one('iam', 'role', q.roleName, false),
  'iam CreatePolicy': (q, s) => one('iam', 'policy', q.policyName ?? obj(s.policy).policyName, true),
  'iam CreatePolicyVersion': (q, s) => {
    const policy = str(q.policyArn)?.split('/').pop();
    const version = str(obj(s.policyVersion).versionId);
    return policy && version ? one('iam', 'policy-version', `${policy}:${version}`, true) : [];
  },
  'iam CreateOpenIDConnectProvider': (_q, s) => one('iam', 'oidc-provider', s.openIDConnectProviderArn, true),
  'iam CreateSAMLProvider': (_q, s) => one('iam', 'saml-provider', s.sAMLProviderArn, true),

  'lambda CreateFunction': (q) => one('lambda', 'function', functionName(q.functionName), true),
  'lambda UpdateFunctionCode': (q) => one('lambda', 'function', functionName(q.functionName), false),
  'lambda UpdateFunctionConfiguration': (q) => one('lambda', 'function', functionName(q.functionName), false),
  'lambda CreateFunctionUrlConfig': (q) => urlTarget(q, true),
  'lambda UpdateFunctionUrlConfig': (q) => urlTarget(q, false),
  'lambda AddPermission': (q) => {
    const fn = functionName(q.functionName);
    const sid = str(q.statementId);
    return fn && sid ? one('lambda', 'function-permission', `${fn}/${sid}`, true) : [];
  },

  'ses VerifyEmailIdentity': (q) => one('ses', 'identity', q.emailAddress, true),
  'ses VerifyEmailAddress': (q) => one('ses', 'identity', q.emailAddress, true),
  'ses VerifyDomainIdentity': (q) => one('ses', 'identity', q.domain, true),
  'ses CreateEmailIdentity': (q) => one('ses', 'identity', q.emailIdentity, true),
  'ses UpdateAccountSendingEnabled': () => one('ses', 'sending', SES_SENDING_ID, false),
  'ses PutAccountDetails': () => one('ses', 'sending', SES_SENDING_ID, false),
  'ses PutAccountSendingAttributes': () => one('ses', 'sending', SES_SENDING_ID, false),

  'sagemaker CreateNotebookInstance': (q) =>
    one('sagemaker', 'notebook-instance', field(q, 'notebookInstanceName'), true),
  'sagemaker StartNotebookInstance': (q) =>
    one('sagemaker', 'notebook-instance', field(q, 'notebookInstanceName'), false),
  'sagemaker UpdateNotebookInstance': (q) =>
    one('sagemaker', 'notebook-instance', field(q, 'notebookInstanceName'), false),
  'sagemaker CreateTrainingJob': (q) => one('sagemaker', 'training-job', field(q, 'trainingJobName'), true),
  'sagemaker CreateEndpoint': (q) => one('sagemaker', 'endpoint', field(q, 'endpointName'), true),
  'sagemaker UpdateEndpoint': (q) => one('sagemaker', 'endpoint', field(q, 'endpointName'), false),

  'ecs CreateCluster': (q, s) =>
    one('ecs', 'cluster', str(obj(s.cluster).clusterName) ?? str(q.clusterName) ?? 'default', true),
  'ecs CreateService': (q) => serviceTarget(q, true),
  'ecs UpdateService': (q) => serviceTarget(q, false),
  'ecs RunTask': (q, s) => taskTargets(q, s),
  'ecs StartTask': (q, s) => taskTargets(q, s),

  'codebuild CreateProject': (q) => one('codebuild', 'project', q.name, true),
  'codebuild UpdateProject': (q) => one('codebuild', 'project', q.name, false),
  // Starting a build on an owner's project runs the attacker's compute there (buildspec override).
  'codebuild StartBuild': (q) => one('codebuild', 'project', q.projectName, false),

  'lightsail CreateInstances': (q) =>
    many('lightsail', 'instance', Array.isArray(q.instanceNames) ? q.instanceNames : [], true),
  'lightsail CreateInstancesFromSnapshot': (q) =>
    many('lightsail', 'instance', Array.isArray(q.instanceNames) ? q.instanceNames : [], true),
};

/** SageMaker records request fields in camelCase; older records and emulators use the API's PascalCase. */
function field(q: Record<string, unknown>, name: string): unknown {
  return q[name] ?? q[name.charAt(0).toUpperCase() + name.slice(1)];
}

/** An ECS cluster named by name or ARN (`default` when the call names none), as the inventory names it. */
function ecsCluster(value: unknown): string {
  const name = str(value);
  return name ? (name.split('/').pop() ?? name) : 'default';
}

function serviceTarget(q: Record<string, unknown>, created: boolean): Target[] {
  const service = str(q.serviceName) ?? str(q.service)?.split('/').pop();
  return service ? one('ecs', 'ecs-service', `${ecsCluster(q.cluster)}/${service}`, created) : [];
}

/** Task ARNs are `task/<cluster>/<id>` (or `task/<id>` in the old format, with the cluster from the request). */
function taskTargets(q: Record<string, unknown>, s: Record<string, unknown>): Target[] {
  const tasks = Array.isArray(s.tasks) ? s.tasks.map(obj) : [];
  return tasks.flatMap((t) => {
    const arn = str(t.taskArn);
    if (!arn) return [];
    const path = arn.split(':task/').pop()?.split('/') ?? [];
    const id = path[path.length - 1];
    const cluster = path.length > 1 ? path[0] : ecsCluster(t.clusterArn ?? q.cluster);
    return one('ecs', 'task', `${cluster}/${id}`, true);
  });
}

function urlTarget(q: Record<string, unknown>, created: boolean): Target[] {
  const fn = functionName(q.functionName);
  const qualifier = str(q.qualifier);
  return fn ? one('lambda', 'function-url', qualifier ? `${fn}:${qualifier}` : fn, created) : [];
}

/** Calls that weaken a guard rail, by `eventSource eventName`: the target and what happened to it. */
const GUARD_RAIL_RULES: Record<
  string,
  (
    q: Record<string, unknown>,
  ) => { kind: GuardRailKind; target?: string; action: GuardRailAction } | undefined
> = {
  'cloudtrail StopLogging': (q) => ({ kind: 'trail', target: str(q.name), action: 'stopped' }),
  'cloudtrail DeleteTrail': (q) => ({ kind: 'trail', target: str(q.name), action: 'deleted' }),
  'cloudtrail PutEventSelectors': (q) => ({
    kind: 'trail',
    target: str(q.trailName),
    action: 'selectors-changed',
  }),
  // UpdateTrail can point the logs at the attacker's bucket or end multi-Region logging.
  'cloudtrail UpdateTrail': (q) => ({ kind: 'trail', target: str(q.name), action: 'updated' }),
  'guardduty DeleteDetector': (q) => ({ kind: 'detector', target: str(q.detectorId), action: 'deleted' }),
  'guardduty UpdateDetector': (q) =>
    q.enable === false ? { kind: 'detector', target: str(q.detectorId), action: 'disabled' } : undefined,
};

function ruleName(record: TrailRecord): string | undefined {
  const service = str(record.eventSource)?.replace(/\.amazonaws\.com$/, '');
  let name = str(record.eventName);
  if (!service || !name) return undefined;
  if (service === 'lambda') name = name.replace(/\d{8}(v\d+)?$/, '');
  return `${service} ${name}`;
}

export function newEvidenceIndex(): EvidenceIndex {
  return { resources: new Map(), guardRails: [], records: 0, indexed: 0 };
}

/**
 * Adds one record to the index; for streaming the Collect step's parts without holding them all. Records
 * of other keys (when `keys` is given), failed calls and unreadable JSON are counted and skipped: a call
 * AWS refused made nothing.
 */
export function indexRecord(
  index: EvidenceIndex,
  input: string | TrailRecord,
  keys?: ReadonlySet<string>,
): void {
  index.records += 1;
  let record: TrailRecord;
  if (typeof input === 'string') {
    try {
      record = JSON.parse(input) as TrailRecord;
    } catch {
      return;
    }
  } else record = input;
  if (!record || typeof record !== 'object' || record.errorCode) return;
  const accessKeyId = str(record.userIdentity?.accessKeyId) ?? 'unknown';
  if (keys && !keys.has(accessKeyId)) return;
  const name = ruleName(record);
  if (!name) return;
  const base = {
    eventId: str(record.eventID) ?? '',
    eventName: str(record.eventName) ?? '',
    eventTime: str(record.eventTime) ?? '',
    accessKeyId,
    region: str(record.awsRegion) ?? 'unknown',
  };
  const q = obj(record.requestParameters);

  const guardRail = GUARD_RAIL_RULES[name]?.(q);
  if (guardRail?.target) {
    index.guardRails.push({
      ...base,
      created: false,
      kind: guardRail.kind,
      target: guardRail.target,
      action: guardRail.action,
    });
    index.indexed += 1;
    return;
  }
  const targets = RULES[name]?.(q, obj(record.responseElements)) ?? [];
  for (const target of targets) {
    const region = target.service === 'iam' ? GLOBAL_REGION : base.region;
    const key = resourceKey(target.service, target.type, region, target.id);
    const list = index.resources.get(key) ?? [];
    if (!list.some((e) => e.eventId === base.eventId && base.eventId !== '')) {
      list.push({ ...base, created: target.created });
      list.sort((a, b) => a.eventTime.localeCompare(b.eventTime));
      index.resources.set(key, list);
    }
  }
  if (targets.length > 0) index.indexed += 1;
}

/** Builds the index from records (JSON strings or parsed), optionally keeping only calls made with `keys`. */
export function buildEvidenceIndex(
  records: Iterable<string | TrailRecord>,
  options: { keys?: Iterable<string> } = {},
): EvidenceIndex {
  const index = newEvidenceIndex();
  const keys = options.keys ? new Set(options.keys) : undefined;
  for (const record of records) indexRecord(index, record, keys);
  return index;
}

export interface AttributeOptions {
  /**
   * Regions whose activity the Collect step read completely (IAM's is us-east-1). There, an undated item
   * (a security group, an SES identity) that no call of the key names is not the key's and is dropped;
   * elsewhere the absence of evidence proves nothing, and the item stays as `unknown`.
   */
  completeRegions?: ReadonlySet<string>;
}

/** The creating call when there is one, else the first change. */
function pick(evidence: Evidence[] | undefined): Evidence | undefined {
  if (!evidence || evidence.length === 0) return undefined;
  return evidence.find((e) => e.created) ?? evidence[0];
}

const ATTRIBUTION_ORDER: Record<string, number> = { true: 0, unknown: 1, false: 2 };

/**
 * Joins the inventory with the evidence:
 * - named by a call of the key: `createdByKey: true` with that call's event id;
 * - created at or after `exposureStart` without such a call: `unknown`, still listed;
 * - older and untouched: dropped (it was there before the key leaked);
 * - undated and untouched: dropped where the key's activity is complete, `unknown` elsewhere;
 * - guard rails: a trail or detector the key stopped, blinded or deleted is a finding with the event id;
 *   one switched off without such a call is `unknown`; a healthy one is kept as `false`, for context.
 * The result is sorted: the key's first, then by hourly cost.
 */
export function attribute(
  items: readonly InventoryItem[],
  index: EvidenceIndex,
  exposureStart: Date | string,
  options: AttributeOptions = {},
): InventoryItem[] {
  const start = new Date(exposureStart).getTime();
  const lookup = (item: Pick<InventoryItem, 'service' | 'type' | 'region' | 'id'>) =>
    index.resources.get(resourceKey(item.service, item.type, item.region, item.id));

  // Instances launched by a Spot request the key made were launched by the Spot service, not by the key.
  const instanceEvidence = new Map<string, { evidence: Evidence; via?: string }>();
  for (const item of items) {
    if (item.service !== 'ec2' || item.type !== 'instance') continue;
    const direct = pick(lookup(item));
    const request = str(item.details?.spotInstanceRequestId);
    const viaSpot = request
      ? pick(lookup({ service: 'ec2', type: 'spot-request', region: item.region, id: request }))
      : undefined;
    if (direct) instanceEvidence.set(`${item.region}/${item.id}`, { evidence: direct });
    else if (viaSpot)
      instanceEvidence.set(`${item.region}/${item.id}`, {
        evidence: viaSpot,
        via: `spot request ${request}`,
      });
  }

  const out: InventoryItem[] = [];
  const seenGuardRails = new Set<GuardRailEvidence>();
  for (const item of items) {
    if (item.type === 'guard-rail') {
      out.push(attributeGuardRail(item, index, seenGuardRails));
      continue;
    }
    let found: { evidence: Evidence; via?: string } | undefined;
    if (item.service === 'ec2' && item.type === 'instance')
      found = instanceEvidence.get(`${item.region}/${item.id}`);
    else {
      const direct = pick(lookup(item));
      if (direct) found = { evidence: direct };
    }
    // Volumes made by RunInstances are not named in its record; they belong to the instance they came with.
    if (!found && item.service === 'ec2' && item.type === 'volume') {
      const attached = Array.isArray(item.details?.attachedTo) ? (item.details.attachedTo as string[]) : [];
      const owner = attached.map((id) => instanceEvidence.get(`${item.region}/${id}`)).find(Boolean);
      if (owner) found = { evidence: owner.evidence, via: `instance ${attached.join(', ')}` };
    }
    if (found) {
      out.push(withEvidence(refineCleanup(item, found.evidence, start), found.evidence, found.via));
      continue;
    }
    const created = item.createdAt ? Date.parse(item.createdAt) : Number.NaN;
    if (!Number.isNaN(created)) {
      if (created >= start) out.push({ ...item, createdByKey: 'unknown' });
      continue;
    }
    const activityRegion = item.region === GLOBAL_REGION ? IAM_HOME_REGION : item.region;
    if (!options.completeRegions?.has(activityRegion)) out.push({ ...item, createdByKey: 'unknown' });
  }
  out.push(...missingGuardRails(index, seenGuardRails, out));
  return out.sort(
    (a, b) =>
      ATTRIBUTION_ORDER[String(a.createdByKey)] - ATTRIBUTION_ORDER[String(b.createdByKey)] ||
      (b.estimatedHourlyUsd ?? 0) - (a.estimatedHourlyUsd ?? 0) ||
      a.region.localeCompare(b.region) ||
      a.service.localeCompare(b.service) ||
      a.type.localeCompare(b.type) ||
      a.id.localeCompare(b.id),
  );
}

function withEvidence(item: InventoryItem, evidence: Evidence, via?: string): InventoryItem {
  return {
    ...item,
    createdByKey: true,
    evidenceEventId: evidence.eventId,
    details: {
      ...item.details,
      evidence: {
        eventName: evidence.eventName,
        eventTime: evidence.eventTime,
        accessKeyId: evidence.accessKeyId,
        created: evidence.created,
        ...(via ? { via } : {}),
      },
    },
  };
}

/** A role that predates the exposure and whose trust the key rewrote gets its trust restored, not deleted. */
function refineCleanup(item: InventoryItem, evidence: Evidence, start: number): InventoryItem {
  const older = item.createdAt !== undefined && Date.parse(item.createdAt) < start;
  if (item.service === 'iam' && item.type === 'role' && !evidence.created && older) {
    return { ...item, ...iamRoleTrustRestore(item.id) };
  }
  return item;
}

function matchesTrail(item: InventoryItem, event: GuardRailEvidence): boolean {
  if (event.kind !== 'trail') return false;
  if (event.target.startsWith('arn:')) return event.target === item.arn;
  // A trail named without its ARN is the one of that name in the Region of the call.
  return event.target === item.id && event.region === item.region;
}

function attributeGuardRail(
  item: InventoryItem,
  index: EvidenceIndex,
  seen: Set<GuardRailEvidence>,
): InventoryItem {
  const events = index.guardRails.filter((e) =>
    item.service === 'guardduty' ? e.kind === 'detector' && e.target === item.id : matchesTrail(item, e),
  );
  for (const e of events) seen.add(e);
  // The latest call explains the state the trail is in now.
  const latest = [...events].sort((a, b) => b.eventTime.localeCompare(a.eventTime))[0];
  if (latest) {
    return {
      ...item,
      createdByKey: true,
      evidenceEventId: latest.eventId,
      details: {
        ...item.details,
        evidence: events.map((e) => ({
          eventId: e.eventId,
          eventName: e.eventName,
          eventTime: e.eventTime,
          action: e.action,
        })),
      },
    };
  }
  return { ...item, createdByKey: item.details?.status === 'ok' ? false : 'unknown' };
}

/**
 * Guard rails the key removed leave nothing to inventory: a deleted trail, a deleted or disabled
 * detector the reader did not see (a disabled one it did see is matched in `attributeGuardRail`). Each
 * becomes a finding of its own.
 */
function missingGuardRails(
  index: EvidenceIndex,
  seen: Set<GuardRailEvidence>,
  present: InventoryItem[],
): InventoryItem[] {
  const findings = new Map<string, InventoryItem>();
  for (const e of index.guardRails) {
    if (seen.has(e)) continue;
    const trailGone = e.kind === 'trail' && e.action === 'deleted';
    if (!trailGone && e.kind !== 'detector') continue;
    const id = e.kind === 'trail' ? (e.target.split(':trail/').pop() ?? e.target) : e.target;
    // A trail ARN names its home Region; a name, the Region of the call.
    const region = e.target.startsWith('arn:') ? (e.target.split(':')[3] ?? e.region) : e.region;
    const service: InventoryService = e.kind === 'trail' ? 'cloudtrail' : 'guardduty';
    const key = `${service}/${region}/${id}`;
    if (
      present.some(
        (i) => i.type === 'guard-rail' && i.service === service && i.region === region && i.id === id,
      )
    )
      continue;
    const previous = findings.get(key);
    if (previous && String(previous.details?.eventTime) >= e.eventTime) continue;
    findings.set(key, {
      service,
      type: 'guard-rail',
      id,
      ...(e.target.startsWith('arn:') ? { arn: e.target } : {}),
      region,
      createdByKey: true,
      evidenceEventId: e.eventId,
      ...(e.kind === 'trail'
        ? deletedTrailCleanup(region, id)
        : detectorCleanup(region, id, e.action === 'deleted')),
      details: {
        kind: e.kind,
        status: e.action === 'deleted' ? 'deleted' : 'off',
        problems: [e.kind === 'trail' ? 'the trail was deleted' : `the detector was ${e.action}`],
        eventName: e.eventName,
        eventTime: e.eventTime,
        accessKeyId: e.accessKeyId,
      },
    });
  }
  return [...findings.values()];
}
