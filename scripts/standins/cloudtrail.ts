/**
 * A local stand-in for CloudTrail's LookupEvents (event history), which moto does not implement.
 *
 *   const trail = await startCloudTrailStandIn();
 *   process.env.AWS_ENDPOINT_URL_CLOUDTRAIL = trail.endpoint; // handlers need no test-only code
 *   trail.addRecords([cloudTrailRecord({ accessKeyId: KEY, eventName: 'RunInstances', awsRegion: 'eu-west-1' })]);
 *   ...
 *   await trail.stop();
 *
 * It speaks CloudTrail's JSON 1.1 protocol on 127.0.0.1 and models what AWS documents for LookupEvents:
 * - one Region per call: the Region is the SigV4 credential scope of the request, and each record is served
 *   only in its `awsRegion`. Since 2021-11-22 that is also true of global services: IAM and CloudFront
 *   events (always recorded as us-east-1) appear only in us-east-1, STS and sign-in events appear in the
 *   Region of the endpoint that was called (us-east-1 for the global endpoints);
 * - management events of the last 90 days only, newest first, at most one lookup attribute, MaxResults
 *   1-50 (default 50), a NextToken that is only valid with the parameters it was issued for;
 * - 2 requests per second per account per Region, then `ThrottlingException` ("Rate exceeded").
 *
 * The 90-day window and the delivery delay are measured against `now` (default: the real clock), so
 * scenarios built on fixed past dates must pass a matching `now`, exactly as such events would have
 * aged out of the real event history.
 *
 * Not modelled: signatures are not verified (any credentials are accepted), Insights events (asking for
 * `EventCategory: 'insight'` returns none), and CloudTrail's service-specific extraction of `Resources`
 * from request parameters (the stand-in uses the record's own `resources` field, ARN as the name).
 * Other CloudTrail operations answer UnknownOperationException.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody, sendJson, signingRegion } from './json-rpc';

/** The `X-Amz-Target` prefix the JS SDK v3 sends (its `serviceTarget` protocol setting). */
export const CLOUDTRAIL_TARGET_PREFIX = 'CloudTrail_20131101';
export const LOOKUP_EVENTS_TARGET = `${CLOUDTRAIL_TARGET_PREFIX}.LookupEvents`;

/** Event history keeps management events for 90 days. */
export const EVENT_HISTORY_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
const MAX_RESULTS = 50;
/** AWS counts these characters twice towards the 2,000-character AttributeValue limit. */
const DOUBLE_WEIGHT_CHARS = new Set(['_', ' ', ',', '\n']);
const MAX_ATTRIBUTE_VALUE_WEIGHT = 2000;

const LOOKUP_ATTRIBUTE_KEYS = [
  'AccessKeyId',
  'Username',
  'EventName',
  'EventSource',
  'EventId',
  'ReadOnly',
  'ResourceName',
  'ResourceType',
] as const;
type LookupAttributeKey = (typeof LOOKUP_ATTRIBUTE_KEYS)[number];
/** The only attributes AWS accepts together with EventCategory 'insight'. */
const INSIGHT_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set(['EventId', 'EventName', 'EventSource']);

/**
 * Services with a single endpoint in us-east-1: CloudTrail always records their events with awsRegion
 * us-east-1, so a record claiming another Region cannot come from AWS and is refused by addRecords.
 */
const US_EAST_1_ONLY_SOURCES: ReadonlySet<string> = new Set([
  'iam.amazonaws.com',
  'cloudfront.amazonaws.com',
]);

export interface CloudTrailUserIdentity {
  type: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  invokedBy?: string;
  sessionContext?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface CloudTrailResource {
  ARN?: string;
  accountId?: string;
  type?: string;
}

/** The documented fields of a CloudTrail record. */
export interface CloudTrailRecordFields {
  eventVersion: string;
  userIdentity: CloudTrailUserIdentity;
  /** ISO 8601, e.g. 2026-11-24T10:00:00Z. */
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent?: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  requestID?: string;
  eventID: string;
  readOnly?: boolean;
  resources?: CloudTrailResource[];
  eventType: string;
  managementEvent?: boolean;
  recipientAccountId: string;
  eventCategory?: string;
}

/** A record as CloudTrail writes it to a trail's `Records[]` (and returns it in `CloudTrailEvent`). */
export interface CloudTrailRecord extends CloudTrailRecordFields {
  /** Fields that vary by event: tlsDetails, additionalEventData, sessionCredentialFromConsole... */
  [key: string]: unknown;
}

/** Answer every request in a Region with this error (e.g. a Region that is not enabled). */
export interface RegionFailure {
  /** The `__type`, e.g. UnrecognizedClientException, OptInRequired, AccessDeniedException. */
  code: string;
  message: string;
  /** @default 400 */
  status?: number;
}

export interface CloudTrailStandInOptions {
  /** Port on 127.0.0.1. @default 0 (the OS picks a free one) */
  port?: number;
  /** Sustained LookupEvents requests per second per Region. @default 2 (AWS's documented limit) */
  ratePerSecond?: number;
  /** Requests a Region accepts at once before the rate applies. @default 2 */
  burst?: number;
  /** Clock in epoch ms for the rate limit, the 90-day window and the delivery delay. @default Date.now */
  now?: () => number;
  /**
   * How long after its eventTime an event becomes visible. AWS typically delivers events to the event
   * history within minutes; 0 makes records visible as soon as their eventTime has passed.
   * @default 0
   */
  deliveryDelayMs?: number;
  /**
   * Where every other CloudTrail operation goes (DescribeTrails, GetEventSelectors, StopLogging...): moto
   * implements those, only LookupEvents is missing. Without it they are refused as unknown operations.
   */
  upstream?: string;
}

export interface CloudTrailStandIn {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_CLOUDTRAIL or a client's `endpoint`. */
  endpoint: string;
  port: number;
  /** Closes the server and its keep-alive connections. Safe to call twice. */
  stop(): Promise<void>;
  /** Adds records to the event history of their `awsRegion`. Throws on records AWS could not produce. */
  addRecords(records: readonly CloudTrailRecord[]): void;
  /** Forgets records, failures, injected throttles, counters and rate-limit state. */
  reset(): void;
  /** Makes every request in `region` fail with `failure`; `undefined` heals the Region. */
  failRegion(region: string, failure: RegionFailure | undefined): void;
  /** The next `n` LookupEvents requests in `region` answer ThrottlingException whatever the rate. */
  injectThrottles(region: string, n: number): void;
  /** LookupEvents requests received (including failed and throttled ones), in `region` or in all. */
  requests(region?: string): number;
  /** Requests answered with ThrottlingException. */
  throttled(region?: string): number;
  /** Successful LookupEvents responses (pages). */
  servedPages(region?: string): number;
}

/** An error answered in the JSON 1.1 shape `{"__type": code, message}` that the SDK maps to its classes. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Modelled CloudTrail errors carry `Message`; front-end errors (throttling, auth) carry `message`. */
    readonly messageField: 'Message' | 'message' = 'Message',
  ) {
    super(message);
  }
}

interface StoredEvent {
  record: CloudTrailRecord;
  timeMs: number;
  id: string;
  json: string;
  username?: string;
  readOnly?: string;
  resources: { ResourceType?: string; ResourceName?: string }[];
}

interface Cursor {
  timeMs: number;
  id: string;
}

class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function counter() {
  const byRegion = new Map<string, number>();
  return {
    add(region: string) {
      byRegion.set(region, (byRegion.get(region) ?? 0) + 1);
    },
    get(region?: string) {
      if (region !== undefined) return byRegion.get(region) ?? 0;
      let total = 0;
      for (const n of byRegion.values()) total += n;
      return total;
    },
    clear() {
      byRegion.clear();
    },
  };
}

/** Newest first; events of the same second by eventId (descending), so the order is total and stable. */
function compareEvents(a: Cursor, b: Cursor): number {
  if (a.timeMs !== b.timeMs) return b.timeMs - a.timeMs;
  if (a.id === b.id) return 0;
  return a.id < b.id ? 1 : -1;
}

/** "A user name or role name of the requester": the session name for assumed roles, "root" for root. */
function lookupUsername(identity: CloudTrailUserIdentity | undefined): string | undefined {
  if (!identity) return undefined;
  switch (identity.type) {
    case 'Root':
      return identity.userName ?? 'root';
    case 'AssumedRole':
    case 'FederatedUser':
      return identity.arn?.split('/').pop() ?? identity.userName;
    default:
      return identity.userName;
  }
}

function toStoredEvent(record: CloudTrailRecord): StoredEvent {
  for (const field of ['eventID', 'eventTime', 'eventSource', 'eventName', 'awsRegion'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      throw new TypeError(`CloudTrail record ${record.eventID ?? '(no eventID)'} lacks ${field}`);
    }
  }
  const timeMs = Date.parse(record.eventTime);
  if (Number.isNaN(timeMs)) throw new TypeError(`CloudTrail record ${record.eventID}: bad eventTime`);
  if (US_EAST_1_ONLY_SOURCES.has(record.eventSource) && record.awsRegion !== 'us-east-1') {
    throw new TypeError(
      `CloudTrail record ${record.eventID}: ${record.eventSource} events are always recorded in us-east-1, ` +
        `not ${record.awsRegion}`,
    );
  }
  return {
    record,
    timeMs,
    id: record.eventID,
    json: JSON.stringify(record),
    username: lookupUsername(record.userIdentity),
    readOnly: typeof record.readOnly === 'boolean' ? String(record.readOnly) : undefined,
    resources: (record.resources ?? []).map((r) => ({ ResourceType: r.type, ResourceName: r.ARN })),
  };
}

function matches(event: StoredEvent, key: LookupAttributeKey, value: string): boolean {
  switch (key) {
    case 'AccessKeyId':
      return event.record.userIdentity?.accessKeyId === value;
    case 'Username':
      return event.username === value;
    case 'EventName':
      return event.record.eventName === value;
    case 'EventSource':
      return event.record.eventSource === value;
    case 'EventId':
      return event.id === value;
    case 'ReadOnly':
      return event.readOnly === value;
    case 'ResourceName':
      return event.resources.some((r) => r.ResourceName === value);
    case 'ResourceType':
      return event.resources.some((r) => r.ResourceType === value);
  }
}

interface LookupQuery {
  attribute?: { key: LookupAttributeKey; value: string };
  startMs?: number;
  endMs?: number;
  insight: boolean;
  maxResults: number;
  nextToken?: string;
}

function invalid(code: string, message: string): ApiError {
  return new ApiError(400, code, message);
}

function optionalEpochSeconds(input: Record<string, unknown>, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ApiError(
      400,
      'SerializationException',
      `${field} must be a timestamp in epoch seconds`,
      'message',
    );
  }
  return value * 1000;
}

function attributeValueWeight(value: string): number {
  let weight = 0;
  for (const char of value) weight += DOUBLE_WEIGHT_CHARS.has(char) ? 2 : 1;
  return weight;
}

function parseLookupQuery(input: unknown): LookupQuery {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ApiError(400, 'SerializationException', 'Request body must be a JSON object', 'message');
  }
  const body = input as Record<string, unknown>;

  const category = body.EventCategory;
  if (category !== undefined && category !== null && category !== 'insight') {
    throw invalid('InvalidEventCategoryException', `Event category ${String(category)} is not valid.`);
  }
  const insight = category === 'insight';

  let attribute: LookupQuery['attribute'];
  const attributes = body.LookupAttributes;
  if (attributes !== undefined && attributes !== null) {
    if (!Array.isArray(attributes)) {
      throw new ApiError(400, 'SerializationException', 'LookupAttributes must be a list', 'message');
    }
    if (attributes.length > 1) {
      throw invalid('InvalidLookupAttributesException', 'You can specify only one lookup attribute.');
    }
    if (attributes.length === 1) {
      const { AttributeKey: key, AttributeValue: value } = (attributes[0] ?? {}) as Record<string, unknown>;
      if (typeof key !== 'string' || !(LOOKUP_ATTRIBUTE_KEYS as readonly string[]).includes(key)) {
        throw invalid(
          'InvalidLookupAttributesException',
          `Lookup attribute key ${String(key)} is not valid.`,
        );
      }
      if (typeof value !== 'string' || value.length === 0) {
        throw invalid('InvalidLookupAttributesException', 'The lookup attribute value must not be empty.');
      }
      if (attributeValueWeight(value) > MAX_ATTRIBUTE_VALUE_WEIGHT) {
        throw invalid('InvalidLookupAttributesException', 'The lookup attribute value is too long.');
      }
      if (insight && !INSIGHT_ATTRIBUTE_KEYS.has(key)) {
        throw invalid('InvalidLookupAttributesException', `${key} is not supported for Insights events.`);
      }
      attribute = { key: key as LookupAttributeKey, value };
    }
  }

  const startMs = optionalEpochSeconds(body, 'StartTime');
  const endMs = optionalEpochSeconds(body, 'EndTime');
  if (startMs !== undefined && endMs !== undefined && startMs > endMs) {
    throw invalid('InvalidTimeRangeException', 'The start time must not be after the end time.');
  }

  let maxResults = MAX_RESULTS;
  if (body.MaxResults !== undefined && body.MaxResults !== null) {
    const n = body.MaxResults;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_RESULTS) {
      throw invalid('InvalidMaxResultsException', `MaxResults must be between 1 and ${MAX_RESULTS}.`);
    }
    maxResults = n;
  }

  const token = body.NextToken;
  if (token !== undefined && token !== null && typeof token !== 'string') {
    throw invalid('InvalidNextTokenException', 'Invalid NextToken.');
  }
  return { attribute, startMs, endMs, insight, maxResults, nextToken: token ?? undefined };
}

/**
 * NextToken: the (eventTime, eventId) of the last event returned plus a digest of the query it belongs to,
 * signed with a per-server secret. A position instead of an offset means records added between pages can
 * neither repeat nor hide events; the digest rejects a token reused with other parameters, as AWS does.
 * MaxResults is left out of the digest: changing the page size does not change which events match.
 */
class TokenCodec {
  private readonly secret = randomBytes(32);

  queryDigest(region: string, q: LookupQuery): string {
    const identity = [region, q.attribute?.key, q.attribute?.value, q.startMs, q.endMs, q.insight];
    return createHash('sha256').update(JSON.stringify(identity)).digest('base64url').slice(0, 22);
  }

  encode(digest: string, cursor: Cursor): string {
    const payload = Buffer.from(JSON.stringify({ q: digest, t: cursor.timeMs, id: cursor.id })).toString(
      'base64url',
    );
    return `${payload}.${this.sign(payload)}`;
  }

  decode(token: string, digest: string): Cursor {
    const [payload, signature, ...rest] = token.split('.');
    if (!payload || !signature || rest.length > 0) throw this.invalidToken();
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw this.invalidToken();
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      q: string;
      t: number;
      id: string;
    };
    if (parsed.q !== digest) {
      throw invalid(
        'InvalidNextTokenException',
        'The NextToken was issued for a request with different parameters (or another Region).',
      );
    }
    return { timeMs: parsed.t, id: parsed.id };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  private invalidToken(): ApiError {
    return invalid('InvalidNextTokenException', 'Invalid NextToken.');
  }
}

function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.status, { __type: error.code, [error.messageField]: error.message });
}

/** Passes a request to the emulator as it came (moto does not check signatures) and its answer back. */
async function forward(
  upstream: string,
  req: IncomingMessage,
  body: string,
  res: ServerResponse,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) {
      headers[name] = value;
    }
  }
  // Only the path and query are taken from the request: an absolute-form URL must not send it elsewhere.
  const target = new URL(upstream);
  const asked = new URL(req.url ?? '/', target);
  target.pathname = asked.pathname;
  target.search = asked.search;
  const answer = await fetch(target, {
    method: req.method,
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
  });
  const text = Buffer.from(await answer.arrayBuffer());
  res.writeHead(answer.status, {
    'content-type': answer.headers.get('content-type') ?? 'application/x-amz-json-1.1',
    'content-length': text.length,
    'x-amzn-requestid': answer.headers.get('x-amzn-requestid') ?? '',
  });
  res.end(text);
}

export async function startCloudTrailStandIn(
  options: CloudTrailStandInOptions = {},
): Promise<CloudTrailStandIn> {
  const rate = options.ratePerSecond ?? 2;
  const burst = options.burst ?? 2;
  const now = options.now ?? Date.now;
  const deliveryDelayMs = options.deliveryDelayMs ?? 0;
  if (!(rate > 0) || !(burst >= 1)) throw new RangeError('ratePerSecond must be > 0 and burst >= 1');

  /** Per Region, newest first (compareEvents order). */
  const eventsByRegion = new Map<string, StoredEvent[]>();
  const eventIds = new Set<string>();
  const failures = new Map<string, RegionFailure>();
  const pendingThrottles = new Map<string, number>();
  const buckets = new Map<string, TokenBucket>();
  const requestCount = counter();
  const throttleCount = counter();
  const pageCount = counter();
  const tokens = new TokenCodec();

  function takeToken(region: string): boolean {
    let bucket = buckets.get(region);
    if (!bucket) {
      bucket = new TokenBucket(rate, burst, now());
      buckets.set(region, bucket);
    }
    return bucket.take(now());
  }

  function lookupEvents(region: string, input: unknown) {
    const query = parseLookupQuery(input);
    const digest = tokens.queryDigest(region, query);
    const after = query.nextToken === undefined ? undefined : tokens.decode(query.nextToken, digest);
    // Only management events are recorded here: an Insights lookup has nothing to return.
    const all = query.insight ? [] : (eventsByRegion.get(region) ?? []);
    const nowMs = now();
    const oldestVisible = nowMs - EVENT_HISTORY_RETENTION_MS;
    const page: StoredEvent[] = [];
    let more = false;
    for (const event of all) {
      if (event.timeMs < oldestVisible || event.timeMs + deliveryDelayMs > nowMs) continue;
      if (query.startMs !== undefined && event.timeMs < query.startMs) continue;
      if (query.endMs !== undefined && event.timeMs > query.endMs) continue;
      if (after && compareEvents(after, event) >= 0) continue;
      if (query.attribute && !matches(event, query.attribute.key, query.attribute.value)) continue;
      if (page.length === query.maxResults) {
        more = true;
        break;
      }
      page.push(event);
    }
    const last = page.at(-1);
    return {
      Events: page.map((e) => ({
        EventId: e.id,
        EventName: e.record.eventName,
        ReadOnly: e.readOnly,
        AccessKeyId: e.record.userIdentity?.accessKeyId,
        EventTime: e.timeMs / 1000,
        EventSource: e.record.eventSource,
        Username: e.username,
        Resources: e.resources,
        CloudTrailEvent: e.json,
      })),
      NextToken: more && last ? tokens.encode(digest, last) : undefined,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const region = signingRegion(req.headers.authorization);
    if (!region) {
      throw new ApiError(
        400,
        'MissingAuthenticationTokenException',
        'Missing Authentication Token',
        'message',
      );
    }
    const target = req.headers['x-amz-target'];
    if (options.upstream && target !== LOOKUP_EVENTS_TARGET) {
      await forward(options.upstream, req, raw, res);
      return;
    }
    if (req.method !== 'POST' || target !== LOOKUP_EVENTS_TARGET) {
      throw new ApiError(
        400,
        'UnknownOperationException',
        `The stand-in only implements ${LOOKUP_EVENTS_TARGET}, not ${String(target)}`,
        'message',
      );
    }
    requestCount.add(region);
    const failure = failures.get(region);
    if (failure) throw new ApiError(failure.status ?? 400, failure.code, failure.message, 'message');
    // Throttling happens at the front door, before the request is even parsed.
    const injected = pendingThrottles.get(region) ?? 0;
    if (injected > 0) pendingThrottles.set(region, injected - 1);
    if (injected > 0 || !takeToken(region)) {
      throttleCount.add(region);
      throw new ApiError(400, 'ThrottlingException', 'Rate exceeded', 'message');
    }
    let input: unknown;
    try {
      input = raw === '' ? {} : JSON.parse(raw);
    } catch {
      throw new ApiError(400, 'SerializationException', 'Request body is not valid JSON', 'message');
    }
    const result = lookupEvents(region, input);
    pageCount.add(region);
    sendJson(res, 200, result);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof ApiError) return sendError(res, error);
      sendError(res, new ApiError(500, 'InternalFailure', String(error), 'message'));
    });
  });
  const listening = await listenOnLoopback(server, options.port);

  return {
    ...listening,
    addRecords(records) {
      const stored = records.map(toStoredEvent);
      const seen = new Set<string>();
      for (const event of stored) {
        if (eventIds.has(event.id) || seen.has(event.id)) {
          throw new TypeError(`CloudTrail record ${event.id} was already added (eventIDs are unique)`);
        }
        seen.add(event.id);
      }
      for (const event of stored) {
        eventIds.add(event.id);
        const list = eventsByRegion.get(event.record.awsRegion) ?? [];
        list.push(event);
        eventsByRegion.set(event.record.awsRegion, list);
      }
      for (const list of eventsByRegion.values()) list.sort(compareEvents);
    },
    reset() {
      eventsByRegion.clear();
      eventIds.clear();
      failures.clear();
      pendingThrottles.clear();
      buckets.clear();
      requestCount.clear();
      throttleCount.clear();
      pageCount.clear();
    },
    failRegion(region, failure) {
      if (failure) failures.set(region, failure);
      else failures.delete(region);
    },
    injectThrottles(region, n) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError('injectThrottles needs a whole number >= 0');
      pendingThrottles.set(region, (pendingThrottles.get(region) ?? 0) + n);
    },
    requests: (region) => requestCount.get(region),
    throttled: (region) => throttleCount.get(region),
    servedPages: (region) => pageCount.get(region),
  };
}

/** Fields of {@link cloudTrailRecord}: any record field, plus shortcuts for the caller's identity. */
export type CloudTrailRecordInit = Partial<Omit<CloudTrailRecordFields, 'userIdentity' | 'eventTime'>> & {
  [key: string]: unknown;
  userIdentity?: Partial<CloudTrailUserIdentity>;
  /** ISO string or Date. @default now */
  eventTime?: string | Date;
  /** Access key of the IAM user who made the call. @default AKIAIOSFODNN7EXAMPLE */
  accessKeyId?: string;
  /** @default ci-deployer */
  userName?: string;
  /** @default 123456789012 */
  accountId?: string;
};

/** Services whose global endpoint host is `<service>.amazonaws.com` (in us-east-1). */
const GLOBAL_ENDPOINT_SOURCES: ReadonlySet<string> = new Set(['iam.amazonaws.com', 'sts.amazonaws.com']);

/**
 * A realistic management-event record of an IAM user's API call (eventVersion 1.09, AwsApiCall), for
 * tests and scenarios. Everything can be overridden; `userIdentity` is merged over the IAM user's.
 * readOnly defaults from the event name (Get/List/Describe/Lookup... are reads).
 */
export function cloudTrailRecord(init: CloudTrailRecordInit = {}): CloudTrailRecord {
  const {
    accessKeyId = 'AKIAIOSFODNN7EXAMPLE',
    userName = 'ci-deployer',
    accountId = init.recipientAccountId ?? '123456789012',
    userIdentity,
    eventTime,
    ...fields
  } = init;
  const eventSource = fields.eventSource ?? 'ec2.amazonaws.com';
  const eventName = fields.eventName ?? 'DescribeInstances';
  // Global services are called through their us-east-1 endpoints unless a record says otherwise.
  const awsRegion = fields.awsRegion ?? 'us-east-1';
  const service = eventSource.replace('.amazonaws.com', '');
  const time = eventTime instanceof Date ? eventTime : new Date(eventTime ?? Date.now());
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAJQABLZS4A3QDU576Q',
      arn: `arn:aws:iam::${accountId}:user/${userName}`,
      accountId,
      accessKeyId,
      userName,
      ...userIdentity,
    },
    // CloudTrail writes whole seconds.
    eventTime: `${time.toISOString().slice(0, 19)}Z`,
    eventSource,
    eventName,
    awsRegion,
    sourceIPAddress: '198.51.100.23',
    userAgent: 'aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6',
    requestParameters: null,
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: /^(Get|List|Describe|Lookup|Head|BatchGet|Search|Scan|Query)/.test(eventName),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: accountId,
    eventCategory: 'Management',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader:
        GLOBAL_ENDPOINT_SOURCES.has(eventSource) && awsRegion === 'us-east-1'
          ? eventSource
          : `${service}.${awsRegion}.amazonaws.com`,
    },
    ...fields,
  };
}
