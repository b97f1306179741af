import { createHash } from 'node:crypto';
import { parse } from '@aws-lambda-powertools/parser';
import * as z from 'zod/mini';
import '../shared/zod-messages';
import { InvalidEventError } from '../shared/errors';
import {
  ACCESS_KEY_ID,
  CONSOLE_COMPROMISE_EVENT_CODE,
  DRILL_SOURCE,
  LEAK_EVENT_CODES,
  QUARANTINE_POLICY_ARN_PREFIX,
  TEMPORARY_KEY_ID,
} from '../shared/event-codes';
import type { ExposedKey, Incident, RejectedEntity, Trigger } from '../shared/types';

/**
 * Limits that keep a hostile or broken event from blowing up the workflow's state (256 KB).
 * AWS pages Health events, so a real page stays far below these.
 */
export const MAX_ENTITIES = 250;
const MAX_VALUE_LENGTH = 512;
const SHOWN_VALUE_LENGTH = 64;

// zod/mini keeps the Intake bundle small; Powertools' parse() takes any Standard Schema.
const text = z.string().check(z.maxLength(MAX_VALUE_LENGTH, `longer than ${MAX_VALUE_LENGTH} characters`));
const accountId = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account ID'));
const isoTime = z.string().check(z.refine((v) => !Number.isNaN(Date.parse(v)), 'must be a date-time'));

/** The EventBridge envelope, as Powertools' EventBridgeSchema describes it. */
const envelope = {
  version: text,
  id: text,
  account: accountId,
  time: isoTime,
  region: text,
  resources: z._default(z.array(text).check(z.maxLength(MAX_ENTITIES)), []),
};

const healthDetailSchema = z.object({
  eventTypeCode: text,
  service: z.optional(text),
  eventTypeCategory: z.optional(text),
  eventArn: z.optional(text),
  communicationId: z.optional(text),
  startTime: z.optional(text),
  affectedAccount: z.optional(accountId),
  affectedEntities: z._default(
    z
      .array(z.looseObject({ entityValue: z.unknown() }))
      .check(
        z.maxLength(MAX_ENTITIES, `more than ${MAX_ENTITIES} affected entities; AWS pages larger events`),
      ),
    [],
  ),
  eventMetadata: z.optional(
    z.looseObject({
      publicKey: z.optional(text),
      userName: z.optional(text),
      accountId: z.optional(text),
      exposedUrl: z.optional(text),
    }),
  ),
  page: z.optional(z.union([text, z.number()])),
  totalPages: z.optional(z.union([text, z.number()])),
  backupEvent: z.optional(z.unknown()),
});

const healthEventSchema = z.object({
  ...envelope,
  source: z.enum(['aws.health', DRILL_SOURCE]),
  'detail-type': z.literal('AWS Health Event'),
  detail: healthDetailSchema,
});

const quarantineEventSchema = z.object({
  ...envelope,
  source: z.literal('aws.iam'),
  'detail-type': z.literal('AWS API Call via CloudTrail'),
  detail: z.looseObject({
    eventSource: z.literal('iam.amazonaws.com'),
    eventName: z.literal('AttachUserPolicy'),
    eventID: text,
    eventTime: text,
    sourceIPAddress: text,
    recipientAccountId: z.optional(accountId),
    errorCode: z.optional(text),
    requestParameters: z.looseObject({ userName: text, policyArn: text }),
  }),
});

type HealthEvent = z.infer<typeof healthEventSchema>;
type QuarantineEvent = z.infer<typeof quarantineEventSchema>;

export type ParsedEvent =
  | {
      kind: 'health';
      incident: Incident;
      keys: ExposedKey[];
      rejected: RejectedEntity[];
      consoleUsers: string[];
    }
  | { kind: 'quarantine'; incident: Incident; quarantinedUser: string };

export interface ParseOptions {
  drillsEnabled: boolean;
  receivedAt: Date;
  primaryRegion?: string;
}

/** Validates a raw event into an Incident, or throws InvalidEventError saying what was wrong. */
export function parseEvent(raw: unknown, options: ParseOptions): ParsedEvent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidEventError(
      `The workflow input is ${describe(raw)}, not an EventBridge event object. Start it with the event as delivered by EventBridge.`,
    );
  }
  const source = (raw as { source?: unknown }).source;
  if (source === 'aws.iam') return parseQuarantine(raw, options);
  if (source === 'aws.health' || source === DRILL_SOURCE) {
    if (source === DRILL_SOURCE && !options.drillsEnabled) {
      throw new InvalidEventError(
        `Drill events (source ${DRILL_SOURCE}) are refused: this stack was deployed without drills. Deploy with -c drills=true to exercise it.`,
      );
    }
    return parseHealth(raw, options);
  }
  throw new InvalidEventError(
    `Unexpected event source ${JSON.stringify(truncate(String(source)))}: the responder acts on aws.health risk events, AWS's quarantine (aws.iam) and, when enabled, ${DRILL_SOURCE}.`,
  );
}

function parseHealth(raw: object, options: ParseOptions): ParsedEvent {
  const event = validate(healthEventSchema, raw, 'AWS Health event');
  const detail = event.detail;
  if (!LEAK_EVENT_CODES.includes(detail.eventTypeCode)) {
    throw new InvalidEventError(
      `Event type ${truncate(detail.eventTypeCode)} is not a leaked-credential event (expected one of ${LEAK_EVENT_CODES.join(', ')}).`,
    );
  }
  const notificationId = detail.communicationId ?? detail.eventArn;
  if (!notificationId) {
    throw new InvalidEventError(
      'The Health event has neither detail.communicationId nor detail.eventArn, so re-deliveries could not be recognised. Send the event as AWS Health delivers it.',
    );
  }
  const ownerAccount = detail.affectedAccount ?? metadataAccount(event) ?? event.account;
  const trigger: Trigger = event.source === DRILL_SOURCE ? 'drill' : 'health';
  const incident = makeIncident({
    trigger,
    accountId: ownerAccount,
    eventTypeCode: detail.eventTypeCode,
    // A drill is one exercise per event; a Health notification is one incident however often it arrives.
    notificationId: trigger === 'drill' ? `${notificationId}#${event.id}` : notificationId,
    detectedAt: parseAwsTime(detail.startTime) ?? event.time,
    receivedAt: options.receivedAt.toISOString(),
    exposedUrl: detail.eventMetadata?.exposedUrl,
    deliveredInRegion: event.region,
    backupCopy:
      // AWS documents filtering on backupEvent = false, so a primary copy can carry false.
      detail.backupEvent === true ||
      detail.backupEvent === 'true' ||
      (options.primaryRegion !== undefined &&
        event.region !== options.primaryRegion &&
        event.region !== 'global'),
  });

  const { keys, rejected, consoleUsers } = collectEntities(event);
  if (keys.length === 0 && consoleUsers.length === 0) {
    const why = rejected.length
      ? `none of its entities is an access key ID (${rejected.map((r) => `${r.value}: ${r.reason}`).join('; ')})`
      : 'it lists no affected entity and no eventMetadata.publicKey';
    throw new InvalidEventError(
      `The ${detail.eventTypeCode} event ${notificationId} names no key to contain: ${why}. Find the key in the AWS Health console or the support case, then run the workflow by hand for it.`,
    );
  }
  return { kind: 'health', incident, keys, rejected, consoleUsers };
}

function collectEntities(event: HealthEvent): {
  keys: ExposedKey[];
  rejected: RejectedEntity[];
  consoleUsers: string[];
} {
  const detail = event.detail;
  const isConsole = detail.eventTypeCode === CONSOLE_COMPROMISE_EVENT_CODE;
  const reportedUserName = detail.eventMetadata?.userName;
  const candidates: unknown[] = detail.affectedEntities.map((entity) => entity.entityValue);
  if (detail.eventMetadata?.publicKey) candidates.push(detail.eventMetadata.publicKey);

  const keys = new Map<string, ExposedKey>();
  const rejected: RejectedEntity[] = [];
  const consoleUsers = new Set<string>();
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') {
      rejected.push({ value: truncate(describe(candidate)), reason: 'entity value is not a string' });
      continue;
    }
    const value = candidate.trim();
    if (ACCESS_KEY_ID.test(value)) {
      if (!keys.has(value))
        keys.set(value, { accessKeyId: value, ...(reportedUserName ? { reportedUserName } : {}) });
    } else if (TEMPORARY_KEY_ID.test(value)) {
      rejected.push({
        value,
        reason:
          'temporary (ASIA) credential: it cannot be deactivated and expires by itself; revoke the sessions of the user or role that minted it',
      });
    } else if (isConsole && /^[\w+=,.@-]{1,64}$/.test(value)) {
      consoleUsers.add(value);
    } else if (value.length === 0) {
      rejected.push({ value: '', reason: 'empty entity value' });
    } else {
      rejected.push({
        value: truncate(value),
        reason: 'not an access key ID (AKIA followed by 16 letters or digits)',
      });
    }
  }
  return { keys: [...keys.values()], rejected: dedupeRejected(rejected), consoleUsers: [...consoleUsers] };
}

function parseQuarantine(raw: object, options: ParseOptions): ParsedEvent {
  const event: QuarantineEvent = validate(
    quarantineEventSchema,
    raw,
    'AWS quarantine (CloudTrail AttachUserPolicy) event',
  );
  const detail = event.detail;
  if (!detail.requestParameters.policyArn.startsWith(QUARANTINE_POLICY_ARN_PREFIX)) {
    throw new InvalidEventError(
      `AttachUserPolicy of ${truncate(detail.requestParameters.policyArn)} is not AWS's quarantine policy (${QUARANTINE_POLICY_ARN_PREFIX}*).`,
    );
  }
  if (detail.sourceIPAddress !== 'AWS Internal') {
    throw new InvalidEventError(
      `The quarantine policy was attached by ${truncate(detail.sourceIPAddress)}, not by AWS ("AWS Internal"): someone in the account did it, so it is not a leak signal.`,
    );
  }
  if (detail.errorCode) {
    throw new InvalidEventError(
      `The quarantine AttachUserPolicy failed (${truncate(detail.errorCode)}); nothing to act on.`,
    );
  }
  const incident = makeIncident({
    trigger: 'quarantine',
    accountId: detail.recipientAccountId ?? event.account,
    eventTypeCode: 'AWS_IAM_QUARANTINE_POLICY_ATTACHED',
    notificationId: detail.eventID,
    detectedAt: parseAwsTime(detail.eventTime) ?? event.time,
    receivedAt: options.receivedAt.toISOString(),
    deliveredInRegion: event.region,
    backupCopy: false,
  });
  return { kind: 'quarantine', incident, quarantinedUser: detail.requestParameters.userName };
}

function makeIncident(fields: Omit<Incident, 'incidentId'>): Incident {
  const digest = createHash('sha256').update(`${fields.accountId}|${fields.notificationId}`).digest('hex');
  const day = fields.detectedAt.slice(0, 10).replaceAll('-', '');
  return { incidentId: `${day}-${digest.slice(0, 12)}`, ...withoutUndefined(fields) };
}

function validate<T extends z.ZodMiniType>(schema: T, raw: unknown, what: string): z.infer<T> {
  const result = parse(raw, undefined, schema, true);
  if (result.success) return result.data as z.infer<T>;
  // Powertools puts the Standard Schema issues in the error's cause.
  const issues = (result.error.cause as { path?: readonly unknown[]; message: string }[] | undefined) ?? [];
  const problems = issues
    .slice(0, 5)
    .map(
      (issue) =>
        `${issue.path?.length ? issue.path.map(pathSegment).join('.') : '(event)'}: ${issue.message}`,
    )
    .join('; ');
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  throw new InvalidEventError(
    `The ${what} is malformed: ${problems || result.error.message}${more}. Nothing was changed.`,
  );
}

function pathSegment(segment: unknown): string {
  return typeof segment === 'object' && segment !== null && 'key' in segment
    ? String(segment.key)
    : String(segment);
}

function metadataAccount(event: HealthEvent): string | undefined {
  const value = event.detail.eventMetadata?.accountId;
  return value && /^\d{12}$/.test(value) ? value : undefined;
}

/** Health writes times as RFC 1123 ("Wed, 12 Feb 2025 00:37:54 GMT"); CloudTrail as ISO 8601. */
export function parseAwsTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function dedupeRejected(rejected: RejectedEntity[]): RejectedEntity[] {
  const seen = new Set<string>();
  return rejected.filter((r) => {
    const id = `${r.value}|${r.reason}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function truncate(value: string): string {
  return value.length > SHOWN_VALUE_LENGTH
    ? `${value.slice(0, SHOWN_VALUE_LENGTH)}...(${value.length} chars)`
    : value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, SHOWN_VALUE_LENGTH)}`;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
