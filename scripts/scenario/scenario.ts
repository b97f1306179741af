/**
 * Attacker scenarios: what a leaked key was used for, played against the emulator and written down as
 * the CloudTrail records AWS would have logged.
 *
 *   const scenario = loadScenario(DEFAULT_SCENARIO_FILE);
 *   const run = await runScenario(scenario, {
 *     endpoint: moto.endpoint, cloudTrail, lightsail, accountId,
 *     leaked: { accessKeyId, secretAccessKey, userName },
 *     start: new Date(Date.now() - scenarioDurationMs(scenario) - 60_000),
 *   });
 *
 * A scenario file (JSON or YAML) is `{ name?, description?, sourceIp?, userAgent?, steps: [...] }`; a step is
 * `{ region, service, action, params?, as?, saveAs?, outcome?, errorMessage?, at?, sourceIp?, userAgent? }`:
 * - `service` is the SDK client's package suffix (`@aws-sdk/client-<service>`: sts, iam, ec2, ses, s3,
 *   lightsail, cloudtrail, ...) and `action` the API name (`RunInstances`), `params` the SDK input (PascalCase,
 *   as the SDK takes it). String values may hold {{ACCOUNT_ID}}, {{LEAKED_USER}}, {{LEAKED_KEY}}, {{REGION}}.
 * - `as` names the credential the call is made with: `leaked` (the default) or the `saveAs` of an earlier
 *   step that minted one (sts GetSessionToken / AssumeRole / GetFederationToken, iam CreateAccessKey).
 * - `outcome` is an error code (`AccessDenied`, ...): the call is NOT sent, and the record carries the error,
 *   as AWS logs a refused call. EC2 logs refusals as `Client.UnauthorizedOperation`, so that is what an
 *   `AccessDenied` outcome of an ec2 step becomes.
 * - `at` is an offset from the scenario start (`+30s`, `+2m15s`, `+1h`); by default a step comes 5-20 s
 *   after the previous one.
 *
 * Where calls go: `lightsail` to the Lightsail stand-in (steps are skipped when none is given), cloudtrail
 * `LookupEvents` to the CloudTrail stand-in, everything else (other cloudtrail calls included: moto keeps
 * trails) to moto. moto answers GetSessionToken and GetFederationToken with a fixed AKIA key; AWS answers
 * with a fresh ASIA key, so the runner mints one in its place (moto does not check signatures, so the calls
 * made with it still work).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  type CloudTrailRecord,
  type CloudTrailStandIn,
  type CloudTrailUserIdentity,
  cloudTrailRecord,
} from '../standins/cloudtrail';
import { LIGHTSAIL_REGIONS, type LightsailStandIn } from '../standins/lightsail';

/** The scenario shipped with the drill. */
export const DEFAULT_SCENARIO_FILE = path.join(__dirname, 'default-scenario.yaml');
/** The name of the leaked key's credential (the default `as`). */
export const LEAKED = 'leaked';
/** A Tor exit node: where leaked keys are typically used from. */
export const DEFAULT_SOURCE_IP = '185.220.101.23';
/** Most leaked-key abuse is scripted with boto3. */
export const DEFAULT_USER_AGENT =
  'Boto3/1.35.99 md/Botocore#1.35.99 ua/2.0 os/linux#6.1.0-28-cloud-amd64 md/arch#x86_64 lang/python#3.11.2 ' +
  'md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.99';
/** What `{{NAME}}` may name in a step's params or errorMessage. */
export const PLACEHOLDERS = ['ACCOUNT_ID', 'LEAKED_USER', 'LEAKED_KEY', 'REGION'] as const;

/** Calls that return a credential a later step can act with (`saveAs`). */
export const MINTING_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  sts: ['GetSessionToken', 'AssumeRole', 'GetFederationToken'],
  iam: ['CreateAccessKey'],
};

/** Services whose calls CloudTrail always records in us-east-1. */
const US_EAST_1_SERVICES: ReadonlySet<string> = new Set(['iam', 'cloudfront', 'route-53', 'organizations']);

/** SDK package suffix -> the service's endpoint prefix (eventSource host, IAM action prefix) where they differ. */
const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  eventbridge: 'events',
  sfn: 'states',
  sesv2: 'ses',
  'cloudwatch-logs': 'logs',
  cloudwatch: 'monitoring',
  'route-53': 'route53',
  'secrets-manager': 'secretsmanager',
  'cognito-identity-provider': 'cognito-idp',
  'elastic-load-balancing-v2': 'elasticloadbalancing',
  'bedrock-runtime': 'bedrock',
  'api-gateway': 'apigateway',
};

/** Hosts a client connects to, where they differ from `<prefix>.<region>.amazonaws.com`. */
const HOST_PREFIX: Readonly<Record<string, string>> = { ses: 'email', sesv2: 'email' };

/** Written in place of secrets in request parameters and response elements. */
const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';
/** What EC2 writes in place of user data and key material. */
const SENSITIVE_REMOVED = '<sensitiveDataRemoved>';
const SECRET_KEY = /^(\w*password|\w*secret|secret\w*|privatekey|sessiontoken|token)$/i;

// ---------------------------------------------------------------------------------------------------------
// The file

const REGION_PATTERN =
  /^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d{1,2}$/;
const OFFSET_PATTERN = /^\+(?=\d)(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const NAME_PATTERN = /^[A-Za-z][\w-]{0,63}$/;

const stepSchema = z.strictObject({
  region: z.string().regex(REGION_PATTERN, 'expected an AWS Region such as us-east-1'),
  service: z.string().regex(/^[a-z0-9-]+$/, 'expected an SDK client name such as ec2 (@aws-sdk/client-ec2)'),
  action: z.string().regex(/^[A-Z][A-Za-z0-9]+$/, 'expected an API name such as RunInstances'),
  params: z.record(z.string(), z.unknown()).optional(),
  as: z.string().optional(),
  saveAs: z.string().regex(NAME_PATTERN, 'expected a name such as session').optional(),
  outcome: z
    .string()
    .regex(/^[A-Za-z][\w.]*$/, 'expected an error code such as AccessDenied')
    .optional(),
  errorMessage: z.string().optional(),
  at: z
    .string()
    .regex(OFFSET_PATTERN, "expected an offset from the start such as '+30s' or '+2m15s'")
    .optional(),
  sourceIp: z.string().optional(),
  userAgent: z.string().optional(),
});

const scenarioSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  sourceIp: z.string().optional(),
  userAgent: z.string().optional(),
  steps: z.array(stepSchema).min(1, 'a scenario needs at least one step'),
});

export type ScenarioStep = z.infer<typeof stepSchema>;
export type Scenario = z.infer<typeof scenarioSchema>;

/** A scenario file that cannot be played: names the file, the step (index in `steps`) and the field. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly stepIndex?: number,
    readonly field?: string,
  ) {
    const where = stepIndex === undefined ? (field ?? '') : `steps[${stepIndex}]${field ? `.${field}` : ''}`;
    super(`${file}: ${where ? `${where}: ` : ''}${problem}`);
  }
}

/** A step the emulator could not play (or, with `strict`, refused). */
export class ScenarioRunError extends Error {
  override readonly name = 'ScenarioRunError';
  constructor(
    readonly stepIndex: number,
    message: string,
  ) {
    super(message);
  }
}

type SdkModule = Record<string, unknown>;
const sdkModules = new Map<string, SdkModule | null>();

function sdkModule(service: string): SdkModule | null {
  if (!sdkModules.has(service)) {
    try {
      sdkModules.set(service, require(`@aws-sdk/client-${service}`) as SdkModule);
    } catch {
      sdkModules.set(service, null);
    }
  }
  return sdkModules.get(service) ?? null;
}

type Ctor = new (arg: unknown) => unknown;

function clientClass(mod: SdkModule): Ctor | undefined {
  const entry = Object.entries(mod).find(
    ([name, value]) => /^[A-Z]\w*Client$/.test(name) && typeof value === 'function',
  );
  return entry?.[1] as Ctor | undefined;
}

function placeholderProblems(value: unknown, at: string): { field: string; problem: string } | undefined {
  if (typeof value === 'string') {
    for (const [, name] of value.matchAll(/\{\{([^}]*)\}\}/g)) {
      if (!(PLACEHOLDERS as readonly string[]).includes(name ?? '')) {
        return { field: at, problem: `unknown placeholder {{${name}}} (known: ${PLACEHOLDERS.join(', ')})` };
      }
    }
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = placeholderProblems(item, `${at}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = placeholderProblems(item, `${at}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

/** Checks a parsed scenario (from a file or built in code); `source` names it in errors. */
export function parseScenario(data: unknown, source = '(scenario)'): Scenario {
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const issuePath = issue?.path ?? [];
    let problem = issue?.message ?? 'invalid scenario';
    if (issue?.code === 'unrecognized_keys') problem = `unknown field(s) ${issue.keys.join(', ')}`;
    if (issuePath[0] === 'steps' && typeof issuePath[1] === 'number') {
      const field = issuePath.slice(2).map(String).join('.') || undefined;
      throw new ScenarioError(source, problem, issuePath[1], field);
    }
    throw new ScenarioError(source, problem, undefined, issuePath.map(String).join('.') || undefined);
  }
  const scenario = parsed.data;
  const credentials = new Set([LEAKED]);
  for (const [index, step] of scenario.steps.entries()) {
    const fail = (field: string, problem: string): never => {
      throw new ScenarioError(source, `${step.service} ${step.action}: ${problem}`, index, field);
    };
    const mod = sdkModule(step.service);
    if (!mod) fail('service', `@aws-sdk/client-${step.service} is not installed`);
    else if (!clientClass(mod)) fail('service', `@aws-sdk/client-${step.service} exports no client class`);
    else if (typeof mod[`${step.action}Command`] !== 'function') {
      fail('action', `@aws-sdk/client-${step.service} has no ${step.action}Command`);
    }
    if (step.service === 'lightsail' && !LIGHTSAIL_REGIONS.includes(step.region)) {
      fail('region', `Lightsail is not offered in ${step.region}`);
    }
    const as = step.as ?? LEAKED;
    if (!credentials.has(as)) {
      fail(
        'as',
        `no credential named "${as}" was saved by an earlier step (known: ${[...credentials].join(', ')})`,
      );
    }
    if (step.saveAs !== undefined) {
      if (!MINTING_ACTIONS[step.service]?.includes(step.action)) {
        const minting = Object.entries(MINTING_ACTIONS).flatMap(([s, actions]) =>
          actions.map((a) => `${s} ${a}`),
        );
        fail('saveAs', `only calls that return a credential can save one (${minting.join(', ')})`);
      }
      if (step.outcome !== undefined)
        fail('saveAs', `a refused call (outcome ${step.outcome}) returns no credential`);
      if (credentials.has(step.saveAs)) fail('saveAs', `the name "${step.saveAs}" is already taken`);
      credentials.add(step.saveAs);
    }
    const placeholder =
      placeholderProblems(step.params, 'params') ?? placeholderProblems(step.errorMessage, 'errorMessage');
    if (placeholder) fail(placeholder.field, placeholder.problem);
  }
  return scenario;
}

/** Reads a scenario file: JSON (`.json`) or YAML (anything else). Throws ScenarioError. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioError(file, `cannot read the file (${code ?? String(error)})`);
  }
  const isJson = file.toLowerCase().endsWith('.json');
  let data: unknown;
  try {
    data = isJson ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ScenarioError(file, `not valid ${isJson ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  return parseScenario(data, file);
}

function offsetMs(at: string): number {
  const [, h = '0', m = '0', s = '0'] = OFFSET_PATTERN.exec(at) ?? [];
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/** When each step happens, in ms after the scenario start. */
export function stepOffsetsMs(scenario: Scenario): number[] {
  const offsets: number[] = [];
  for (const [index, step] of scenario.steps.entries()) {
    const previous = offsets.at(-1);
    // 5-20 s after the previous step, the same on every run.
    offsets.push(
      step.at !== undefined
        ? offsetMs(step.at)
        : previous === undefined
          ? 0
          : previous + (5 + ((index * 7) % 16)) * 1000,
    );
  }
  return offsets;
}

/** How long the scenario lasts (the offset of its latest step): start it at least this long ago. */
export function scenarioDurationMs(scenario: Scenario): number {
  return Math.max(0, ...stepOffsetsMs(scenario));
}

// ---------------------------------------------------------------------------------------------------------
// Playing it

export interface ScenarioContext {
  /** moto. */
  endpoint: string;
  /** Receives one record per step; also answers the attacker's cloudtrail LookupEvents. */
  cloudTrail: Pick<CloudTrailStandIn, 'endpoint' | 'addRecords'>;
  /** Answers lightsail steps; without it they are skipped (those with an `outcome` are still recorded). */
  lightsail?: Pick<LightsailStandIn, 'endpoint'>;
  accountId: string;
  leaked: {
    accessKeyId: string;
    /** moto does not check signatures: any value works there. */
    secretAccessKey: string;
    userName: string;
    /** The user's id (AIDA...); looked up with iam GetUser when omitted. */
    userId?: string;
  };
  /** The time of the first step; records of steps still in the future are hidden by the stand-in. */
  start: Date;
  /** @default DEFAULT_SOURCE_IP (the scenario's own sourceIp comes first) */
  sourceIp?: string;
  /** @default DEFAULT_USER_AGENT (the scenario's own userAgent comes first) */
  userAgent?: string;
  /** Throw on a call the emulator refused instead of recording it as a failed attempt. @default false */
  strict?: boolean;
  /** Called after each step. */
  onStep?: (step: ScenarioStepResult) => void;
}

export interface ScenarioStepResult {
  index: number;
  /** The step's Region (the record's awsRegion may differ: IAM is recorded in us-east-1). */
  region: string;
  service: string;
  action: string;
  /** The credential the call was made with. */
  as: string;
  /** The call was sent and succeeded. */
  ok: boolean;
  /** `Code: message` of a refused call (an `outcome` or the emulator's answer) or why it was skipped. */
  error?: string;
  /** The step was not played (a lightsail step without a Lightsail stand-in); it has no record. */
  skipped?: boolean;
  /** eventID of the step's record; null when skipped. */
  eventId: string | null;
  eventTime: string;
  /** What the call created: instance ids, user names, access key ids, key pair names, group ids... */
  createdIds?: string[];
}

export interface ScenarioRun {
  steps: ScenarioStepResult[];
  /** Credential name -> access key id, the leaked key included. */
  credentials: Record<string, string>;
  /** The records written to the stand-in, in step order. */
  records: CloudTrailRecord[];
}

interface Credential {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  identity: CloudTrailUserIdentity;
}

interface SdkClient {
  send(command: unknown): Promise<Record<string, unknown>>;
  destroy(): void;
}

interface SdkError {
  name: string;
  message: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

function isServiceError(error: unknown): error is SdkError {
  return typeof error === 'object' && error !== null && '$metadata' in error && '$fault' in error;
}

function servicePrefix(service: string): string {
  return SERVICE_PREFIX[service] ?? service;
}

function lcfirst(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** How CloudTrail writes dates inside request parameters and response elements: `Nov 24, 2026, 3:04:05 PM`. */
export function cloudTrailDate(date: Date): string {
  const h = date.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ` +
    `${h % 12 || 12}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`
  );
}

/** Whole seconds, as CloudTrail writes eventTime. */
function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** `length` characters of the alphabet AWS uses in key and principal ids, from `seed` or random. */
function base32(length: number, seed: Buffer = randomBytes(length)): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return Array.from(seed.subarray(0, length), (b) => alphabet[b % 32]).join('');
}

function fill(value: unknown, values: Record<string, string>): unknown {
  if (typeof value === 'string')
    return value.replace(/\{\{([A-Z_]+)\}\}/g, (m, name: string) => values[name] ?? m);
  if (Array.isArray(value)) return value.map((item) => fill(item, values));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  }
  return value;
}

/** Request parameters or response elements as CloudTrail writes them: camelCase keys, secrets hidden. */
function cloudTrailShape(value: unknown, hidden = HIDDEN): unknown {
  if (value instanceof Date) return cloudTrailDate(value);
  if (value instanceof Uint8Array) return hidden;
  if (Array.isArray(value)) return value.map((item) => cloudTrailShape(item, hidden));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '$metadata' || item === undefined) continue;
      out[lcfirst(key)] = SECRET_KEY.test(key) ? hidden : cloudTrailShape(item, hidden);
    }
    return out;
  }
  return value;
}

const CREATION_TIME_KEYS: ReadonlySet<string> = new Set(['createDate', 'createdAt', 'statusChangedAt']);

function retime(value: unknown, when: string): void {
  if (Array.isArray(value)) {
    for (const item of value) retime(item, when);
  } else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const [key, item] of Object.entries(object)) {
      if (CREATION_TIME_KEYS.has(key) && typeof item === 'string') object[key] = when;
      else retime(item, when);
    }
  }
}

function isEmpty(value: Record<string, unknown>): boolean {
  return Object.keys(value).length === 0;
}

// --- EC2 speaks the query protocol: CloudTrail shows its lists as `xxxSet: { items: [...] }`.

/** SDK list member -> [CloudTrail name, item key for lists of strings]. */
const EC2_LISTS: Readonly<Record<string, readonly [string, string?]>> = {
  InstanceIds: ['instancesSet', 'instanceId'],
  RegionNames: ['regionSet', 'regionName'],
  SecurityGroupIds: ['groupSet', 'groupId'],
  SecurityGroups: ['groupSet', 'groupName'],
  GroupIds: ['securityGroupIdSet', 'groupId'],
  GroupNames: ['securityGroupSet', 'groupName'],
  KeyNames: ['keySet', 'keyName'],
  ImageIds: ['imagesSet', 'imageId'],
  Owners: ['ownersSet', 'owner'],
  Values: ['valueSet', 'value'],
  Filters: ['filterSet'],
  TagSpecifications: ['tagSpecificationSet'],
  IpPermissions: ['ipPermissions'],
  IpRanges: ['ipRanges'],
  Ipv6Ranges: ['ipv6Ranges'],
  UserIdGroupPairs: ['groups'],
  PrefixListIds: ['prefixListIds'],
  BlockDeviceMappings: ['blockDeviceMapping'],
};

/** Empty lists CloudTrail shows for EC2 reads called without them. */
const EC2_EMPTY_LISTS: Readonly<Record<string, readonly string[]>> = {
  DescribeRegions: ['regionSet'],
  DescribeInstances: ['instancesSet', 'filterSet'],
  DescribeKeyPairs: ['keySet'],
  DescribeSecurityGroups: ['securityGroupSet', 'securityGroupIdSet', 'filterSet'],
  DescribeVpcs: ['vpcSet', 'filterSet'],
};

function ec2Shape(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map(ec2Shape);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === '$metadata' || item === undefined) continue;
    if (key === 'UserData' || key === 'KeyMaterial') {
      out[lcfirst(key)] = SENSITIVE_REMOVED;
    } else if (SECRET_KEY.test(key)) {
      out[lcfirst(key)] = HIDDEN;
    } else if (key === 'Tags' && Array.isArray(item)) {
      out.tags = cloudTrailShape(item);
    } else if (key === 'Return') {
      out._return = item;
    } else if (Array.isArray(item)) {
      const singular = key.replace(/s$/, '');
      const [name, itemKey] = EC2_LISTS[key] ?? [`${lcfirst(singular)}Set`, lcfirst(singular)];
      const items = item.map((entry) =>
        entry && typeof entry === 'object' ? ec2Shape(entry) : { [itemKey ?? lcfirst(singular)]: entry },
      );
      out[name] = { items };
    } else {
      out[lcfirst(key)] = ec2Shape(item);
    }
  }
  return out;
}

function ec2RequestParameters(action: string, params: Record<string, unknown>): Record<string, unknown> {
  if (action === 'RunInstances') {
    const { ImageId, MinCount, MaxCount, KeyName, ...rest } = params;
    const launch = ec2Shape({ ImageId, MinCount, MaxCount, KeyName }) as Record<string, unknown>;
    return {
      instancesSet: { items: [launch] },
      ...(ec2Shape(rest) as Record<string, unknown>),
      blockDeviceMapping: {},
      monitoring: { enabled: false },
      disableApiTermination: false,
      disableApiStop: false,
    };
  }
  const shaped = ec2Shape(params) as Record<string, unknown>;
  if (action === 'AuthorizeSecurityGroupIngress' || action === 'AuthorizeSecurityGroupEgress') {
    const permissions =
      (shaped.ipPermissions as { items?: Record<string, unknown>[] } | undefined)?.items ?? [];
    for (const permission of permissions) {
      for (const list of ['groups', 'ipRanges', 'ipv6Ranges', 'prefixListIds']) permission[list] ??= {};
    }
  }
  const empties = Object.fromEntries((EC2_EMPTY_LISTS[action] ?? []).map((name) => [name, {}]));
  return { ...empties, ...shaped };
}

// --- Response elements

interface StepContext {
  service: string;
  action: string;
  region: string;
  params: Record<string, unknown>;
  output: Record<string, unknown>;
  eventTime: Date;
  requestId: string;
  /** The minted credential, for STS calls. */
  minted?: { accessKeyId: string; expiration: Date };
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function responseElements(step: StepContext, readOnly: boolean): Record<string, unknown> | null {
  const { service, action, output, eventTime, requestId, minted } = step;
  if (minted) {
    const credentials = {
      accessKeyId: minted.accessKeyId,
      sessionToken: HIDDEN,
      expiration: cloudTrailDate(minted.expiration),
    };
    if (action === 'AssumeRole') {
      const user = (output.AssumedRoleUser ?? {}) as Record<string, unknown>;
      return { credentials, assumedRoleUser: { assumedRoleId: user.AssumedRoleId, arn: user.Arn } };
    }
    if (action === 'GetFederationToken') {
      const user = (output.FederatedUser ?? {}) as Record<string, unknown>;
      return { credentials, federatedUser: { federatedUserId: user.FederatedUserId, arn: user.Arn } };
    }
    return { credentials };
  }
  if (service === 'ec2' && action === 'RunInstances') {
    const instances = records(output.Instances);
    return {
      requestId,
      reservationId: output.ReservationId,
      ownerId: output.OwnerId,
      groupSet: {},
      instancesSet: {
        items: instances.map((i) => {
          const placement = (i.Placement ?? {}) as Record<string, unknown>;
          return {
            instanceId: i.InstanceId,
            imageId: i.ImageId,
            instanceState: { code: 0, name: 'pending' },
            privateDnsName: i.PrivateDnsName,
            keyName: i.KeyName,
            amiLaunchIndex: i.AmiLaunchIndex,
            productCodes: {},
            instanceType: i.InstanceType,
            launchTime: eventTime.getTime(),
            placement: {
              availabilityZone: placement.AvailabilityZone,
              tenancy: placement.Tenancy ?? 'default',
            },
            monitoring: { state: 'disabled' },
            subnetId: i.SubnetId,
            vpcId: i.VpcId,
            privateIpAddress: i.PrivateIpAddress,
            stateReason: { code: 'pending', message: 'pending' },
            architecture: i.Architecture ?? 'x86_64',
            rootDeviceType: 'ebs',
            rootDeviceName: i.RootDeviceName,
            blockDeviceMapping: {},
            virtualizationType: 'hvm',
            clientToken: i.ClientToken,
            groupSet: {
              items: records(i.SecurityGroups).map((g) => ({ groupId: g.GroupId, groupName: g.GroupName })),
            },
            sourceDestCheck: true,
            hypervisor: 'xen',
            ebsOptimized: false,
            enaSupport: true,
          };
        }),
      },
    };
  }
  if (readOnly) return null;
  if (service === 'ec2') {
    const shaped = ec2Shape(output) as Record<string, unknown>;
    return { requestId, ...shaped };
  }
  const shaped = cloudTrailShape(output) as Record<string, unknown>;
  // CloudTrail never shows the secret of a new access key.
  if (action === 'CreateAccessKey')
    delete (shaped.accessKey as Record<string, unknown> | undefined)?.secretAccessKey;
  // What the call created, it created at the time of the call (the emulator's clock is not the scenario's).
  retime(shaped, cloudTrailDate(eventTime));
  return isEmpty(shaped) ? null : shaped;
}

function requestParameters(step: Omit<StepContext, 'output' | 'requestId'>): Record<string, unknown> | null {
  const { service, action, region, params } = step;
  if (service === 'ec2') {
    const shaped = ec2RequestParameters(action, params);
    return isEmpty(shaped) ? null : shaped;
  }
  if (service === 's3') {
    const { Bucket, ...rest } = params;
    return {
      ...(Bucket !== undefined ? { bucketName: Bucket } : {}),
      Host:
        Bucket !== undefined ? `${String(Bucket)}.s3.${region}.amazonaws.com` : `s3.${region}.amazonaws.com`,
      ...(cloudTrailShape(rest) as Record<string, unknown>),
    };
  }
  const shaped = cloudTrailShape(params, service === 'lightsail' ? SENSITIVE_REMOVED : HIDDEN) as Record<
    string,
    unknown
  >;
  if (service === 'lightsail' && 'userData' in shaped) shaped.userData = SENSITIVE_REMOVED;
  return isEmpty(shaped) ? null : shaped;
}

function createdIds(step: StepContext): string[] | undefined {
  const { service, action, params, output, minted } = step;
  if (minted) return [minted.accessKeyId];
  const ids = ((): unknown[] => {
    switch (`${service}:${action}`) {
      case 'ec2:RunInstances':
        return records(output.Instances).map((i) => i.InstanceId);
      case 'ec2:CreateKeyPair':
        return [output.KeyName];
      case 'ec2:CreateSecurityGroup':
        return [output.GroupId];
      case 'ec2:AuthorizeSecurityGroupIngress':
      case 'ec2:AuthorizeSecurityGroupEgress':
        return records(output.SecurityGroupRules).map((r) => r.SecurityGroupRuleId);
      case 'iam:CreateUser':
        return [(output.User as Record<string, unknown> | undefined)?.UserName];
      case 'iam:CreateRole':
        return [(output.Role as Record<string, unknown> | undefined)?.RoleName];
      case 'iam:CreateAccessKey':
        return [(output.AccessKey as Record<string, unknown> | undefined)?.AccessKeyId];
      case 'iam:CreateLoginProfile':
        return [(output.LoginProfile as Record<string, unknown> | undefined)?.UserName];
      case 's3:CreateBucket':
        return [params.Bucket];
      case 'lightsail:CreateInstances':
        return Array.isArray(params.instanceNames) ? params.instanceNames : [];
      default:
        return [];
    }
  })().filter((id): id is string => typeof id === 'string' && id !== '');
  return ids.length > 0 ? ids : undefined;
}

/** The resource an IAM-style AccessDenied message names. */
function deniedResource(
  service: string,
  region: string,
  accountId: string,
  params: Record<string, unknown>,
): string {
  const name = (key: string) => str(params[key]);
  if (service === 'cloudtrail' && name('Name')) {
    const trail = name('Name') as string;
    return trail.startsWith('arn:') ? trail : `arn:aws:cloudtrail:${region}:${accountId}:trail/${trail}`;
  }
  if (service === 'iam' && name('UserName')) return `arn:aws:iam::${accountId}:user/${name('UserName')}`;
  if (service === 'iam' && name('RoleName')) return `arn:aws:iam::${accountId}:role/${name('RoleName')}`;
  if (service === 'sts' && name('RoleArn')) return name('RoleArn') as string;
  if (service === 's3' && name('Bucket')) return `arn:aws:s3:::${name('Bucket')}`;
  return '*';
}

function deniedError(
  step: ScenarioStep,
  outcome: string,
  caller: CloudTrailUserIdentity,
  accountId: string,
  params: Record<string, unknown>,
): { errorCode: string; errorMessage: string } {
  const permission = `${servicePrefix(step.service)}:${step.action}`;
  if (step.service === 'ec2') {
    const errorCode =
      outcome === 'AccessDenied' || outcome === 'UnauthorizedOperation'
        ? 'Client.UnauthorizedOperation'
        : /^(Client|Server)\./.test(outcome)
          ? outcome
          : `Client.${outcome}`;
    const errorMessage =
      errorCode === 'Client.UnauthorizedOperation'
        ? `You are not authorized to perform this operation. User: ${caller.arn} is not authorized to perform: ` +
          `${permission} on resource: arn:aws:ec2:${step.region}:${accountId}:* because no identity-based policy ` +
          `allows the ${permission} action. Encoded authorization failure message: ${randomBytes(96).toString('base64url')}`
        : `${errorCode.replace(/^(Client|Server)\./, '')}`;
    return { errorCode, errorMessage };
  }
  if (outcome === 'AccessDenied' || outcome === 'AccessDeniedException') {
    const resource = deniedResource(step.service, step.region, accountId, params);
    return {
      errorCode: outcome,
      errorMessage:
        `User: ${caller.arn} is not authorized to perform: ${permission} on resource: ${resource} ` +
        `because no identity-based policy allows the ${permission} action`,
    };
  }
  return { errorCode: outcome, errorMessage: outcome };
}

/** The error code CloudTrail shows for an error the emulator answered. */
function recordedErrorCode(service: string, error: SdkError): string {
  if (service !== 'ec2') return error.name;
  return `${error.$fault === 'server' ? 'Server' : 'Client'}.${error.name}`;
}

function syntheticUserId(accountId: string, userName: string): string {
  return `AIDA${base32(17, createHash('sha256').update(`${accountId}/${userName}`).digest())}`;
}

function userIdentity(
  accountId: string,
  user: { userName: string; userId: string; arn?: string },
  accessKeyId: string,
): CloudTrailUserIdentity {
  return {
    type: 'IAMUser',
    principalId: user.userId,
    arn: user.arn ?? `arn:aws:iam::${accountId}:user/${user.userName}`,
    accountId,
    accessKeyId,
    userName: user.userName,
  };
}

/** The identity a minted STS credential's calls are recorded under. */
function stsIdentity(
  action: string,
  params: Record<string, unknown>,
  output: Record<string, unknown>,
  caller: CloudTrailUserIdentity,
  accessKeyId: string,
  eventTime: Date,
  accountId: string,
): CloudTrailUserIdentity {
  const attributes = { creationDate: isoSeconds(eventTime), mfaAuthenticated: 'false' };
  if (action === 'AssumeRole') {
    const roleArn = String(params.RoleArn);
    const sessionName = String(params.RoleSessionName);
    const user = (output.AssumedRoleUser ?? {}) as Record<string, unknown>;
    const roleName = roleArn.split('/').pop() ?? roleArn;
    const roleAccount = roleArn.split(':')[4] || accountId;
    const assumedRoleId = str(user.AssumedRoleId) ?? `AROA${base32(17)}:${sessionName}`;
    return {
      type: 'AssumedRole',
      principalId: assumedRoleId,
      arn: str(user.Arn) ?? `arn:aws:sts::${roleAccount}:assumed-role/${roleName}/${sessionName}`,
      accountId: roleAccount,
      accessKeyId,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: assumedRoleId.split(':')[0],
          arn: roleArn,
          accountId: roleAccount,
          userName: roleName,
        },
        webIdFederationData: {},
        attributes,
      },
    };
  }
  if (action === 'GetFederationToken') {
    const user = (output.FederatedUser ?? {}) as Record<string, unknown>;
    const name = String(params.Name);
    return {
      type: 'FederatedUser',
      principalId: str(user.FederatedUserId) ?? `${accountId}:${name}`,
      arn: str(user.Arn) ?? `arn:aws:sts::${accountId}:federated-user/${name}`,
      accountId,
      accessKeyId,
      sessionContext: {
        sessionIssuer: {
          type: caller.type,
          principalId: caller.principalId,
          arn: caller.arn,
          accountId: caller.accountId,
          userName: caller.userName,
        },
        webIdFederationData: {},
        attributes,
      },
    };
  }
  // GetSessionToken: the calls are the user's own, made with an ASIA key.
  return {
    ...structuredClone(caller),
    accessKeyId,
    sessionContext: { sessionIssuer: {}, webIdFederationData: {}, attributes },
  };
}

interface UserInfo {
  userName: string;
  userId: string;
  arn?: string;
}

interface Failure {
  errorCode: string;
  errorMessage: string;
}

/** One run of a scenario: the clients, the credentials minted so far, the users met. */
class Player {
  readonly run: ScenarioRun;
  private readonly clients = new Map<string, SdkClient>();
  private readonly users = new Map<string, UserInfo>();
  private readonly credentials = new Map<string, Credential>();

  constructor(
    private readonly scenario: Scenario,
    private readonly ctx: ScenarioContext,
  ) {
    this.run = { steps: [], credentials: { [LEAKED]: ctx.leaked.accessKeyId }, records: [] };
  }

  async play(): Promise<ScenarioRun> {
    const { ctx } = this;
    try {
      const leaked: Credential = {
        name: LEAKED,
        accessKeyId: ctx.leaked.accessKeyId,
        secretAccessKey: ctx.leaked.secretAccessKey,
        identity: { type: 'IAMUser' },
      };
      const user = ctx.leaked.userId
        ? { userName: ctx.leaked.userName, userId: ctx.leaked.userId }
        : await this.lookupUser(ctx.leaked.userName, leaked);
      this.users.set(user.userName, user);
      leaked.identity = userIdentity(ctx.accountId, user, leaked.accessKeyId);
      this.credentials.set(LEAKED, leaked);

      // CloudTrail writes whole seconds.
      const start = Math.floor(ctx.start.getTime() / 1000) * 1000;
      const offsets = stepOffsetsMs(this.scenario);
      for (const [index, step] of this.scenario.steps.entries()) {
        const result = await this.playStep(index, step, new Date(start + (offsets[index] ?? 0)));
        this.run.steps.push(result);
        ctx.onStep?.(result);
      }
    } finally {
      for (const client of this.clients.values()) client.destroy();
    }
    return this.run;
  }

  private client(service: string, region: string, endpoint: string, credential: Credential): SdkClient {
    const key = `${service}|${region}|${endpoint}|${credential.name}`;
    let found = this.clients.get(key);
    if (!found) {
      const Client = clientClass(sdkModule(service) ?? {}) as Ctor;
      found = new Client({
        region,
        endpoint,
        credentials: {
          accessKeyId: credential.accessKeyId,
          secretAccessKey: credential.secretAccessKey,
          ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
        },
        ...(service === 's3' ? { forcePathStyle: true } : {}),
      }) as SdkClient;
      this.clients.set(key, found);
    }
    return found;
  }

  private async send(
    service: string,
    action: string,
    region: string,
    endpoint: string,
    credential: Credential,
    input: unknown,
  ): Promise<Record<string, unknown>> {
    const Command = sdkModule(service)?.[`${action}Command`] as Ctor;
    return (await this.client(service, region, endpoint, credential).send(new Command(input))) ?? {};
  }

  /** Who a user is, for the records of calls made with its keys (asked of IAM; not part of the scenario). */
  private async lookupUser(userName: string, credential: Credential): Promise<UserInfo> {
    const known = this.users.get(userName);
    if (known) return known;
    let found: UserInfo = { userName, userId: syntheticUserId(this.ctx.accountId, userName) };
    try {
      const out = await this.send('iam', 'GetUser', 'us-east-1', this.ctx.endpoint, credential, {
        UserName: userName,
      });
      const user = out.User as Record<string, unknown> | undefined;
      if (user && typeof user.UserId === 'string')
        found = { userName, userId: user.UserId, arn: str(user.Arn) };
    } catch {
      // keep the synthetic id
    }
    this.users.set(userName, found);
    return found;
  }

  private endpointOf(step: ScenarioStep): string | undefined {
    if (step.service === 'lightsail') return this.ctx.lightsail?.endpoint;
    if (step.service === 'cloudtrail' && step.action === 'LookupEvents') return this.ctx.cloudTrail.endpoint;
    return this.ctx.endpoint;
  }

  private async playStep(index: number, step: ScenarioStep, eventTime: Date): Promise<ScenarioStepResult> {
    const { ctx } = this;
    const as = step.as ?? LEAKED;
    const base = { index, region: step.region, service: step.service, action: step.action, as };
    const describe = `step ${index} (${step.service} ${step.action} in ${step.region} as ${as})`;
    const credential = this.credentials.get(as);
    if (!credential) {
      throw new ScenarioRunError(
        index,
        `${describe}: the credential "${as}" was never minted (its step failed)`,
      );
    }
    const endpoint = this.endpointOf(step);
    if (endpoint === undefined && step.outcome === undefined) {
      return {
        ...base,
        ok: false,
        skipped: true,
        error: 'no Lightsail stand-in was given',
        eventId: null,
        eventTime: isoSeconds(eventTime),
      };
    }
    const values: Record<(typeof PLACEHOLDERS)[number], string> = {
      ACCOUNT_ID: ctx.accountId,
      LEAKED_USER: ctx.leaked.userName,
      LEAKED_KEY: ctx.leaked.accessKeyId,
      REGION: step.region,
    };
    const params = fill(step.params ?? {}, values) as Record<string, unknown>;

    let output: Record<string, unknown> = {};
    let failure: Failure | undefined;
    if (step.outcome !== undefined) {
      failure = deniedError(step, step.outcome, credential.identity, ctx.accountId, params);
    } else if (endpoint !== undefined) {
      try {
        output = await this.send(step.service, step.action, step.region, endpoint, credential, params);
      } catch (error) {
        failure = this.refused(index, describe, step, params, error);
      }
    }
    if (failure && step.errorMessage !== undefined)
      failure.errorMessage = String(fill(step.errorMessage, values));

    const stepContext: StepContext = {
      service: step.service,
      action: step.action,
      region: step.region,
      params,
      output,
      eventTime,
      requestId: randomUUID(),
    };
    if (!failure) await this.remember(step, stepContext, credential);

    const record = this.record(step, stepContext, credential, failure);
    ctx.cloudTrail.addRecords([record]);
    this.run.records.push(record);
    const ids = failure ? undefined : createdIds(stepContext);
    return {
      ...base,
      ok: !failure,
      ...(failure ? { error: `${failure.errorCode}: ${failure.errorMessage}` } : {}),
      eventId: record.eventID,
      eventTime: record.eventTime,
      ...(ids ? { createdIds: ids } : {}),
    };
  }

  /** A call the emulator answered with an error: recorded as AWS records a failed call, or thrown. */
  private refused(
    index: number,
    describe: string,
    step: ScenarioStep,
    params: Record<string, unknown>,
    error: unknown,
  ): Failure {
    const status = isServiceError(error) ? (error.$metadata?.httpStatusCode ?? 0) : 0;
    if (!isServiceError(error) || status < 400 || status >= 500) {
      const { name, message } = error as Error;
      throw new ScenarioRunError(
        index,
        `${describe}: the emulator could not play it (${name}: ${message}); give the step an \`outcome\` or drop it`,
      );
    }
    const hint =
      step.action === 'AttachUserPolicy' &&
      String(params.PolicyArn).startsWith('arn:aws:iam::aws:policy/') &&
      error.name === 'NoSuchEntityException'
        ? ' (start moto with MOTO_IAM_LOAD_MANAGED_POLICIES=true to attach AWS managed policies)'
        : '';
    if (this.ctx.strict) {
      throw new ScenarioRunError(index, `${describe}: refused: ${error.name}: ${error.message}${hint}`);
    }
    return { errorCode: recordedErrorCode(step.service, error), errorMessage: `${error.message}${hint}` };
  }

  /** Keeps what later steps need: minted credentials, the ids of users created. */
  private async remember(step: ScenarioStep, stepContext: StepContext, caller: Credential): Promise<void> {
    const { output, params, eventTime } = stepContext;
    if (step.service === 'iam' && step.action === 'CreateUser') {
      const user = output.User as Record<string, unknown> | undefined;
      if (user && typeof user.UserName === 'string' && typeof user.UserId === 'string') {
        this.users.set(user.UserName, { userName: user.UserName, userId: user.UserId, arn: str(user.Arn) });
      }
    }
    if (!MINTING_ACTIONS[step.service]?.includes(step.action)) return;
    let minted: Omit<Credential, 'name'> | undefined;
    if (step.service === 'iam') {
      const key = output.AccessKey as Record<string, unknown> | undefined;
      const userName = str(key?.UserName);
      const accessKeyId = str(key?.AccessKeyId);
      if (userName && accessKeyId) {
        const user = await this.lookupUser(userName, caller);
        minted = {
          accessKeyId,
          secretAccessKey: str(key?.SecretAccessKey) ?? '',
          identity: userIdentity(this.ctx.accountId, user, accessKeyId),
        };
      }
    } else {
      const returned = output.Credentials as Record<string, unknown> | undefined;
      // moto answers GetSessionToken / GetFederationToken with a fixed AKIA key; AWS with a fresh ASIA one.
      const accessKeyId =
        typeof returned?.AccessKeyId === 'string' && returned.AccessKeyId.startsWith('ASIA')
          ? returned.AccessKeyId
          : `ASIA${base32(16)}`;
      const defaultDuration = step.action === 'AssumeRole' ? 3600 : 43_200;
      const duration = typeof params.DurationSeconds === 'number' ? params.DurationSeconds : defaultDuration;
      stepContext.minted = { accessKeyId, expiration: new Date(eventTime.getTime() + duration * 1000) };
      minted = {
        accessKeyId,
        secretAccessKey: str(returned?.SecretAccessKey) ?? randomBytes(30).toString('base64'),
        sessionToken: str(returned?.SessionToken) ?? randomBytes(64).toString('base64'),
        identity: stsIdentity(
          step.action,
          params,
          output,
          caller.identity,
          accessKeyId,
          eventTime,
          this.ctx.accountId,
        ),
      };
    }
    if (minted && step.saveAs) {
      this.credentials.set(step.saveAs, { ...minted, name: step.saveAs });
      this.run.credentials[step.saveAs] = minted.accessKeyId;
    }
  }

  private record(
    step: ScenarioStep,
    stepContext: StepContext,
    credential: Credential,
    failure: Failure | undefined,
  ): CloudTrailRecord {
    const { ctx, scenario } = this;
    const awsRegion = US_EAST_1_SERVICES.has(step.service) ? 'us-east-1' : step.region;
    const record = cloudTrailRecord({
      accountId: ctx.accountId,
      eventTime: stepContext.eventTime,
      eventSource: `${servicePrefix(step.service)}.amazonaws.com`,
      eventName: step.action,
      awsRegion,
      sourceIPAddress: step.sourceIp ?? scenario.sourceIp ?? ctx.sourceIp ?? DEFAULT_SOURCE_IP,
      userAgent: step.userAgent ?? scenario.userAgent ?? ctx.userAgent ?? DEFAULT_USER_AGENT,
      requestID: stepContext.requestId,
      recipientAccountId: ctx.accountId,
    });
    record.userIdentity = structuredClone(credential.identity);
    record.requestParameters = requestParameters(stepContext);
    record.responseElements = failure ? null : responseElements(stepContext, record.readOnly === true);
    if (failure) {
      record.errorCode = failure.errorCode;
      record.errorMessage = failure.errorMessage;
    }
    const hostPrefix = HOST_PREFIX[step.service];
    if (hostPrefix) {
      record.tlsDetails = {
        ...(record.tlsDetails as Record<string, unknown>),
        clientProvidedHostHeader: `${hostPrefix}.${awsRegion}.amazonaws.com`,
      };
    }
    const roleArn = stepContext.params.RoleArn;
    if (!failure && step.action === 'AssumeRole' && typeof roleArn === 'string') {
      record.resources = [
        { ARN: roleArn, accountId: roleArn.split(':')[4] || ctx.accountId, type: 'AWS::IAM::Role' },
      ];
    }
    return record;
  }
}

/**
 * Plays `scenario`: each step is sent to the emulator (unless its `outcome` says it was refused) and
 * written as one CloudTrail record into the stand-in, in step order. Throws ScenarioError on an invalid
 * scenario and ScenarioRunError on a step the emulator cannot play (or, with `strict`, refused).
 */
export async function runScenario(scenario: Scenario, ctx: ScenarioContext): Promise<ScenarioRun> {
  const checked = parseScenario(scenario, scenario.name ?? '(scenario)');
  return new Player(checked, ctx).play();
}
