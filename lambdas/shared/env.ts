import * as z from 'zod/mini';
import './zod-messages';
import { ConfigurationError } from './errors';

/**
 * The environment each function receives from lib/ (config flows context -> bin -> props -> env).
 * Parsed once, on first use, so a deployment fault names the variable instead of failing later.
 * zod/mini, not classic zod: it tree-shakes, and classic zod alone would add ~440 KB to every bundle.
 */
const boolean = z.pipe(
  z.enum(['true', 'false']),
  z.transform((v) => v === 'true'),
);
const positiveInt = z.pipe(
  z.string().check(z.regex(/^\d+$/, 'must be a whole number of seconds')),
  z.transform(Number),
);
const optionalText = z.optional(z.string().check(z.minLength(1)));

export const envSchema = z.object({
  RESPONDER_ACCOUNT_ID: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account ID'))),
  MODE: z._default(z.enum(['contain', 'notify-only', 'dry-run']), 'contain'),
  REVOKE_SESSIONS: z._default(boolean, true),
  LOGIN_PROFILE: z._default(z.enum(['keep', 'delete']), 'keep'),
  EXEMPT_TAG: optionalText,
  DRILLS_ENABLED: z._default(boolean, false),
  CANARY_TAG: z._default(z.string(), 'exposed-key-responder:canary'),
  IDEMPOTENCY_TABLE: optionalText,
  DEDUPE_WINDOW_SECONDS: z._default(positiveInt, 86_400),
  ALERT_TOPIC_ARN: optionalText,
  REVOKE_POLICY_NAME: z._default(z.string(), 'ExposedKeyResponderRevokeSessions'),
  STATE_MACHINE_LOG_GROUP: optionalText,
  EVIDENCE_BUCKET: optionalText,
  /** How long the report's presigned link is asked to live (the signing credentials may end it sooner). */
  REPORT_LINK_SECONDS: z._default(positiveInt, 7 * 24 * 3600),
  /** all-enabled, or a comma-separated list of regions. */
  REGIONS: z._default(z.string(), 'all-enabled'),
  LOOKBACK_DAYS: z._default(z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number)), 90),
  /** Every role of the responder's stack starts with this (CDK names roles <stack>-...): never changed. */
  RESPONDER_ROLE_PREFIX: z._default(z.string(), ''),
});

export type ResponderEnv = z.infer<typeof envSchema>;

let cached: ResponderEnv | undefined;

export function env(): ResponderEnv {
  if (!cached) cached = parseEnv(process.env);
  return cached;
}

export function parseEnv(source: Record<string, string | undefined>): ResponderEnv {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`The function's environment is invalid (${problems}). Redeploy the stack.`);
  }
  return result.data;
}

export function required<K extends keyof ResponderEnv>(key: K): NonNullable<ResponderEnv[K]> {
  const value = env()[key];
  if (value === undefined || value === null) {
    throw new ConfigurationError(`${String(key)} is not set for this function. Redeploy the stack.`);
  }
  return value as NonNullable<ResponderEnv[K]>;
}

/** For tests and the local runner, which change the environment between runs. */
export function resetEnvCache(): void {
  cached = undefined;
}
