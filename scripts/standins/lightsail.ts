/**
 * A local stand-in for the Lightsail instance API, which moto does not implement: GetInstances,
 * CreateInstances and DeleteInstance, per Region, over Lightsail's JSON 1.1 protocol on 127.0.0.1.
 *
 *   const lightsail = await startLightsailStandIn();
 *   process.env.AWS_ENDPOINT_URL_LIGHTSAIL = lightsail.endpoint;
 *   lightsail.addInstances([{ region: 'eu-west-1', name: 'miner-1', bundleId: 'xlarge_3_0' }]);
 *
 * The Region is the SigV4 credential scope of each request; instances live in one Region and are listed
 * only there. GetInstances pages with `pageToken` / `nextPageToken` (an opaque, signed position, so
 * instances created between pages neither repeat nor hide others). Instance fields follow the API
 * reference: createdAt in epoch seconds, location {availabilityZone, regionName}, state {code, name}
 * (pending 0, running 16, stopping 64, stopped 80), the `LightsailDefaultKeyPair` when no key pair is
 * named, dualstack addressing by default.
 *
 * Not modelled: signatures (any credentials are accepted), blueprint and bundle catalogues (any id is
 * accepted; hardware and networking are left out because they depend on the bundle), quotas, and the
 * Regions Lightsail is not offered in (LIGHTSAIL_REGIONS; use failRegion to make one fail).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody, sendJson, signingRegion } from './json-rpc';

/** The `X-Amz-Target` prefix the JS SDK v3 sends (its `serviceTarget` protocol setting). */
export const LIGHTSAIL_TARGET_PREFIX = 'Lightsail_20161128';
const OPERATIONS = ['GetInstances', 'CreateInstances', 'DeleteInstance'] as const;
export type LightsailOperation = (typeof OPERATIONS)[number];

/** Regions Lightsail is offered in (the SDK's RegionName enum). */
export const LIGHTSAIL_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'eu-south-2',
  'ca-central-1',
  'ap-east-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-3',
  'ap-southeast-5',
  'sa-east-1',
];

/**
 * GetInstances page size. Undocumented; 20 is what AWS answers per page (aws/aws-sdk-java-v2#2156,
 * an account with more than 20 instances that only saw the first page).
 */
const DEFAULT_PAGE_SIZE = 20;
/** Lightsail resource names: alphanumerics, periods, dashes and underscores, starting and ending alphanumeric. */
const NAME_PATTERN = /^[A-Za-z0-9][\w.-]{0,253}[A-Za-z0-9]$/;
const DEFAULT_KEY_PAIR = 'LightsailDefaultKeyPair';

export type LightsailInstanceStateName = 'pending' | 'running' | 'stopping' | 'stopped';
/** Lightsail reuses EC2's instance state codes. */
const STATE_CODES: Record<LightsailInstanceStateName, number> = {
  pending: 0,
  running: 16,
  stopping: 64,
  stopped: 80,
};

export interface LightsailTag {
  key: string;
  value?: string;
}

/** An instance to put in place without calling CreateInstances (e.g. one an attacker created earlier). */
export interface LightsailInstanceSeed {
  region: string;
  name: string;
  /** @default `${region}a` */
  availabilityZone?: string;
  /** @default amazon_linux_2023 */
  blueprintId?: string;
  /** @default small_3_0 */
  bundleId?: string;
  /** @default now */
  createdAt?: Date;
  /** @default LightsailDefaultKeyPair */
  keyPairName?: string;
  tags?: LightsailTag[];
  /** A fixed state; by default pending for `pendingMs` after createdAt, then running. */
  state?: LightsailInstanceStateName;
}

/** What the stand-in holds about an instance (GetInstances derives the rest). */
export interface LightsailInstanceSummary {
  region: string;
  name: string;
  arn: string;
  availabilityZone: string;
  blueprintId: string;
  bundleId: string;
  createdAt: Date;
  keyPairName: string;
  tags: LightsailTag[];
  state: LightsailInstanceStateName;
  publicIpAddress: string;
}

export interface RegionFailure {
  /** The `__type`, e.g. UnrecognizedClientException, AccessDeniedException. */
  code: string;
  message: string;
  /** @default 400 */
  status?: number;
}

export interface LightsailStandInOptions {
  /** Port on 127.0.0.1. @default 0 (the OS picks a free one) */
  port?: number;
  /** Instances per GetInstances page. @default 20 */
  pageSize?: number;
  /** @default 123456789012 */
  accountId?: string;
  /** Clock in epoch ms (creation times, pending -> running). @default Date.now */
  now?: () => number;
  /** How long a new instance stays `pending` before it is `running`. @default 0 */
  pendingMs?: number;
}

export interface LightsailStandIn {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_LIGHTSAIL or a client's `endpoint`. */
  endpoint: string;
  port: number;
  /** Closes the server and its keep-alive connections. Safe to call twice. */
  stop(): Promise<void>;
  /** Puts instances in place; throws on a name already used in the Region or an invalid name or zone. */
  addInstances(seeds: readonly LightsailInstanceSeed[]): void;
  /** Instances of `region`, or of every Region, oldest first. */
  instances(region?: string): LightsailInstanceSummary[];
  /** Forgets instances, failures and counters. */
  reset(): void;
  /** Makes every request in `region` fail with `failure`; `undefined` heals the Region. */
  failRegion(region: string, failure: RegionFailure | undefined): void;
  /** Requests received, in `region` or all Regions, of `operation` or all operations. */
  requests(region?: string, operation?: LightsailOperation): number;
}

/** A Lightsail error: `__type` plus the modelled `message` member (the SDK maps `__type` to its class). */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const invalidInput = (message: string) => new ApiError(400, 'InvalidInputException', message);

interface StoredInstance extends Omit<LightsailInstanceSummary, 'state'> {
  id: string;
  privateIpAddress: string;
  ipv6Address: string;
  /** Set when the seed fixed the state. */
  fixedState?: LightsailInstanceStateName;
}

/** The default login user of a blueprint: distribution images use their own, application images Bitnami's. */
function loginUser(blueprintId: string): string {
  if (blueprintId.startsWith('ubuntu')) return 'ubuntu';
  if (blueprintId.startsWith('debian')) return 'admin';
  if (blueprintId.startsWith('centos')) return 'centos';
  if (blueprintId.startsWith('windows')) return 'Administrator';
  if (/^(amazon_linux|almalinux|freebsd|opensuse)/.test(blueprintId)) return 'ec2-user';
  return 'bitnami';
}

function stringField(input: Record<string, unknown>, field: string, required: true): string;
function stringField(input: Record<string, unknown>, field: string, required: false): string | undefined;
function stringField(input: Record<string, unknown>, field: string, required: boolean): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) {
    if (required) throw invalidInput(`${field} is required`);
    return undefined;
  }
  if (typeof value !== 'string')
    throw new ApiError(400, 'SerializationException', `${field} must be a string`);
  return value;
}

function parseTags(value: unknown): LightsailTag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ApiError(400, 'SerializationException', 'tags must be a list');
  return value.map((tag: Record<string, unknown>) => {
    if (typeof tag?.key !== 'string' || tag.key === '') throw invalidInput('Each tag needs a key');
    return typeof tag.value === 'string' ? { key: tag.key, value: tag.value } : { key: tag.key };
  });
}

export async function startLightsailStandIn(
  options: LightsailStandInOptions = {},
): Promise<LightsailStandIn> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const accountId = options.accountId ?? '123456789012';
  const now = options.now ?? Date.now;
  const pendingMs = options.pendingMs ?? 0;
  if (!(pageSize >= 1)) throw new RangeError('pageSize must be at least 1');

  const byRegion = new Map<string, Map<string, StoredInstance>>();
  const failures = new Map<string, RegionFailure>();
  const requestCounts = new Map<string, number>();
  const secret = randomBytes(32);
  let addressCounter = 0;

  const regionInstances = (region: string) => {
    let instances = byRegion.get(region);
    if (!instances) {
      instances = new Map();
      byRegion.set(region, instances);
    }
    return instances;
  };
  /** Oldest first, then by name: a total order, so a position in it is a stable page boundary. */
  const compare = (a: StoredInstance, b: StoredInstance) =>
    a.createdAt.getTime() - b.createdAt.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const sorted = (region: string) => [...regionInstances(region).values()].sort(compare);

  function stateOf(instance: StoredInstance): LightsailInstanceStateName {
    if (instance.fixedState) return instance.fixedState;
    return now() - instance.createdAt.getTime() < pendingMs ? 'pending' : 'running';
  }

  function summary(instance: StoredInstance): LightsailInstanceSummary {
    const { id: _id, privateIpAddress: _private, ipv6Address: _ipv6, fixedState: _fixed, ...rest } = instance;
    return { ...rest, tags: [...rest.tags], state: stateOf(instance) };
  }

  /** Validates and stores instances; every check happens before anything is stored (all or nothing). */
  function create(seeds: readonly LightsailInstanceSeed[]): StoredInstance[] {
    const names = new Set<string>();
    for (const seed of seeds) {
      if (!NAME_PATTERN.test(seed.name)) throw invalidInput(`${seed.name} is not a valid resource name`);
      const zone = seed.availabilityZone ?? `${seed.region}a`;
      if (!(zone.startsWith(seed.region) && /^[a-z]$/.test(zone.slice(seed.region.length)))) {
        throw invalidInput(`${zone} is not an Availability Zone of ${seed.region}`);
      }
      if (names.has(`${seed.region}/${seed.name}`) || regionInstances(seed.region).has(seed.name)) {
        throw invalidInput(`Some names are already in use: ${seed.name}`);
      }
      names.add(`${seed.region}/${seed.name}`);
    }
    return seeds.map((seed) => {
      const id = randomUUID();
      addressCounter += 1;
      const host = addressCounter % 250;
      const instance: StoredInstance = {
        id,
        region: seed.region,
        name: seed.name,
        arn: `arn:aws:lightsail:${seed.region}:${accountId}:Instance/${id}`,
        availabilityZone: seed.availabilityZone ?? `${seed.region}a`,
        blueprintId: seed.blueprintId ?? 'amazon_linux_2023',
        bundleId: seed.bundleId ?? 'small_3_0',
        createdAt: seed.createdAt ?? new Date(now()),
        keyPairName: seed.keyPairName ?? DEFAULT_KEY_PAIR,
        tags: seed.tags ?? [],
        fixedState: seed.state,
        // Documentation ranges (RFC 5737, RFC 3849): they never point at someone's real host. Lightsail's
        // own instances sit in 172.26.0.0/16.
        publicIpAddress: `203.0.113.${host + 1}`,
        privateIpAddress: `172.26.${Math.floor(addressCounter / 250)}.${host + 1}`,
        ipv6Address: `2001:db8::${addressCounter.toString(16)}`,
      };
      regionInstances(seed.region).set(instance.name, instance);
      return instance;
    });
  }

  function instanceJson(instance: StoredInstance) {
    const state = stateOf(instance);
    return {
      name: instance.name,
      arn: instance.arn,
      supportCode: `${accountId}/i-${instance.id.replaceAll('-', '').slice(0, 17)}`,
      createdAt: instance.createdAt.getTime() / 1000,
      location: { availabilityZone: instance.availabilityZone, regionName: instance.region },
      resourceType: 'Instance',
      tags: instance.tags,
      blueprintId: instance.blueprintId,
      bundleId: instance.bundleId,
      isStaticIp: false,
      privateIpAddress: instance.privateIpAddress,
      // A stopped instance gives its dynamic public address back.
      ...(state === 'stopped' ? {} : { publicIpAddress: instance.publicIpAddress }),
      ipv6Addresses: [instance.ipv6Address],
      ipAddressType: 'dualstack',
      state: { code: STATE_CODES[state], name: state },
      username: loginUser(instance.blueprintId),
      sshKeyName: instance.keyPairName,
    };
  }

  function operation(instance: StoredInstance, operationType: 'CreateInstance' | 'DeleteInstance') {
    const at = now() / 1000;
    return {
      id: randomUUID(),
      resourceName: instance.name,
      resourceType: 'Instance',
      createdAt: at,
      location: { availabilityZone: instance.availabilityZone, regionName: instance.region },
      isTerminal: false,
      operationType,
      status: 'Started',
      statusChangedAt: at,
    };
  }

  const sign = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');
  function pageToken(region: string, last: StoredInstance): string {
    const payload = Buffer.from(
      JSON.stringify({ r: region, t: last.createdAt.getTime(), n: last.name }),
    ).toString('base64url');
    return `${payload}.${sign(payload)}`;
  }
  function readPageToken(region: string, token: string): { t: number; n: string } {
    const [payload, signature, ...rest] = token.split('.');
    const expected = Buffer.from(payload ? sign(payload) : '');
    const given = Buffer.from(signature ?? '');
    if (
      !payload ||
      rest.length > 0 ||
      expected.length !== given.length ||
      !timingSafeEqual(expected, given)
    ) {
      throw invalidInput('The page token is not valid');
    }
    const cursor = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      r: string;
      t: number;
      n: string;
    };
    if (cursor.r !== region) throw invalidInput('The page token was issued in another Region');
    return cursor;
  }

  const handlers: Record<LightsailOperation, (region: string, input: Record<string, unknown>) => unknown> = {
    GetInstances(region, input) {
      const token = stringField(input, 'pageToken', false);
      let instances = sorted(region);
      if (token !== undefined && token !== '') {
        const cursor = readPageToken(region, token);
        instances = instances.filter(
          (i) =>
            i.createdAt.getTime() > cursor.t || (i.createdAt.getTime() === cursor.t && i.name > cursor.n),
        );
      }
      const page = instances.slice(0, pageSize);
      const last = page.at(-1);
      return {
        instances: page.map(instanceJson),
        nextPageToken: instances.length > pageSize && last ? pageToken(region, last) : undefined,
      };
    },
    CreateInstances(region, input) {
      const names = input.instanceNames;
      if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string')) {
        throw invalidInput('instanceNames must list at least one name');
      }
      const availabilityZone = stringField(input, 'availabilityZone', true);
      const blueprintId = stringField(input, 'blueprintId', true);
      const bundleId = stringField(input, 'bundleId', true);
      const keyPairName = stringField(input, 'keyPairName', false);
      const tags = parseTags(input.tags);
      const created = create(
        (names as string[]).map((name) => ({
          region,
          name,
          availabilityZone,
          blueprintId,
          bundleId,
          keyPairName,
          tags,
        })),
      );
      return { operations: created.map((i) => operation(i, 'CreateInstance')) };
    },
    DeleteInstance(region, input) {
      const name = stringField(input, 'instanceName', true);
      const instance = regionInstances(region).get(name);
      if (!instance) throw new ApiError(404, 'NotFoundException', `The Instance does not exist: ${name}`);
      regionInstances(region).delete(name);
      return { operations: [operation(instance, 'DeleteInstance')] };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const region = signingRegion(req.headers.authorization);
    if (!region)
      throw new ApiError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const target = String(req.headers['x-amz-target']);
    const name = target.startsWith(`${LIGHTSAIL_TARGET_PREFIX}.`)
      ? target.slice(LIGHTSAIL_TARGET_PREFIX.length + 1)
      : '';
    if (req.method !== 'POST' || !(OPERATIONS as readonly string[]).includes(name)) {
      throw new ApiError(400, 'UnknownOperationException', `The stand-in does not implement ${target}`);
    }
    const op = name as LightsailOperation;
    const key = `${region}/${op}`;
    requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
    const failure = failures.get(region);
    if (failure) throw new ApiError(failure.status ?? 400, failure.code, failure.message);
    let input: unknown;
    try {
      input = raw === '' ? {} : JSON.parse(raw);
    } catch {
      throw new ApiError(400, 'SerializationException', 'Request body is not valid JSON');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new ApiError(400, 'SerializationException', 'Request body must be a JSON object');
    }
    sendJson(res, 200, handlers[op](region, input as Record<string, unknown>));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const apiError =
        error instanceof ApiError ? error : new ApiError(500, 'ServiceException', String(error));
      sendJson(res, apiError.status, { __type: apiError.code, message: apiError.message });
    });
  });
  const listening = await listenOnLoopback(server, options.port);

  return {
    ...listening,
    addInstances(seeds) {
      try {
        create(seeds);
      } catch (error) {
        throw error instanceof ApiError ? new TypeError(error.message) : error;
      }
    },
    instances(region) {
      const regions = region === undefined ? [...byRegion.keys()] : [region];
      return regions.flatMap((r) => sorted(r).map(summary));
    },
    reset() {
      byRegion.clear();
      failures.clear();
      requestCounts.clear();
    },
    failRegion(region, failure) {
      if (failure) failures.set(region, failure);
      else failures.delete(region);
    },
    requests(region, op) {
      let total = 0;
      for (const [key, n] of requestCounts) {
        const [r, o] = key.split('/');
        if ((region === undefined || r === region) && (op === undefined || o === op)) total += n;
      }
      return total;
    },
  };
}
