import { z } from 'zod';

/**
 * The stack's configuration, read once from CDK context in bin/app.ts.
 * Context given on the command line (-c key=value) arrives as strings, from cdk.json as JSON:
 * both are accepted. A bad value stops synth with a message naming the key and what it accepts.
 */
export interface ResponderConfig {
  /** E-mail addresses subscribed to the alert topic. @default none */
  notificationEmails: string[];
  /** AWS Chatbot Slack channel for the alert topic. @default none */
  slack?: { workspaceId: string; channelId: string };
  /** contain: act; notify-only: only alert; dry-run: decide and report, change nothing. @default contain */
  mode: 'contain' | 'notify-only' | 'dry-run';
  /** Deny sessions issued before containment on the key's user. @default true */
  revokeSessions: boolean;
  /** What to do with the user's console password. @default keep */
  loginProfile: 'keep' | 'delete';
  /** How far back the investigation looks, in days (CloudTrail keeps 90). @default 90 */
  lookbackDays: number;
  /** Regions to investigate. @default all-enabled */
  regions: 'all-enabled' | string[];
  /** Users tagged `<exemptTag>=true` are only reported. @default none (nobody is exempt) */
  exemptTag?: string;
  /** Deny the older sessions of every role the leaked key (or its pivots) assumed. @default false */
  revokeAssumedRoleSessions: boolean;
  /** Days the evidence is kept. @default 400 */
  evidenceRetentionDays: number;
  /**
   * Days the report's presigned link in the email is asked to live; 0 sends no bearer link at all. The
   * signing role's session can end it sooner, and the e-mail says so. @default 7
   */
  reportLinkDays: number;
  /** Region of the primary stack. AWS delivers IAM's CloudTrail events (the quarantine trigger) in us-east-1 only. @default us-east-1 */
  primaryRegion: string;
  /** Region of the backup rule that forwards Health events to the primary region, or none. @default us-west-2 */
  backupRegion?: string;
  /** Accept drill events (custom source), acting only on users tagged `<canaryTag>=true`. @default false */
  drills: boolean;
  /** The tag that marks drill canary users. @default exposed-key-responder:canary */
  canaryTag: string;
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const int = (min: number, max: number) =>
  z
    .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)])
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const list = z.union([
  z.array(z.string()),
  z.string().transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ),
]);
const jsonObject = z.union([
  z.record(z.string(), z.unknown()),
  z.string().transform((v, ctx) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a JSON object like {"workspaceId":"T0...","channelId":"C0..."}',
      });
      return z.NEVER;
    }
  }),
]);

const schema = z.object({
  notificationEmails: list
    .pipe(z.array(z.string().regex(EMAIL, 'each entry must be an e-mail address')))
    .default([]),
  slack: jsonObject
    .pipe(
      z.object({
        workspaceId: z
          .string()
          .regex(/^[A-Z0-9]{9,15}$/, 'workspaceId must be the Slack workspace ID (e.g. T01ABCDEF)'),
        channelId: z
          .string()
          .regex(/^[A-Z0-9]{9,15}$/, 'channelId must be the Slack channel ID (e.g. C01ABCDEF)'),
      }),
    )
    .optional(),
  mode: z.enum(['contain', 'notify-only', 'dry-run']).default('contain'),
  revokeSessions: bool.default(true),
  loginProfile: z.enum(['keep', 'delete']).default('keep'),
  lookbackDays: int(1, 90).default(90),
  regions: z
    .union([
      z.literal('all-enabled'),
      list.pipe(z.array(z.string().regex(REGION, 'each entry must be a region such as eu-west-1')).min(1)),
    ])
    .default('all-enabled'),
  exemptTag: z.string().regex(TAG_KEY, 'must be an IAM tag key').optional(),
  revokeAssumedRoleSessions: bool.default(false),
  evidenceRetentionDays: int(1, 3650).default(400),
  reportLinkDays: int(0, 7).default(7),
  primaryRegion: z.string().regex(REGION, 'must be a region such as us-east-1').default('us-east-1'),
  // The default applies before 'none' becomes undefined: zod 4 would otherwise replace that undefined with the default.
  backupRegion: z
    .union([z.literal('none'), z.string().regex(REGION, "must be a region such as us-west-2, or 'none'")])
    .default('us-west-2')
    .transform((v) => (v === 'none' ? undefined : v)),
  drills: bool.default(false),
  canaryTag: z.string().regex(TAG_KEY, 'must be an IAM tag key').default('exposed-key-responder:canary'),
});

export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof ResponderConfig)[];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates raw context values; `read(key)` is `app.node.tryGetContext` in bin/app.ts. */
export function parseConfig(read: (key: string) => unknown): ResponderConfig {
  const raw = Object.fromEntries(
    CONFIG_KEYS.map((key) => [key, read(key)]).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '(config)');
      const accepted = ACCEPTED[key as keyof ResponderConfig];
      return `  context '${key}' = ${JSON.stringify(raw[key])}: ${issue.message}${accepted ? ` (accepted: ${accepted})` : ''}`;
    });
    throw new ConfigError(
      `Invalid configuration:\n${problems.join('\n')}\nSet it with -c key=value or in cdk.json "context".`,
    );
  }
  const config = result.data as ResponderConfig;
  if (config.backupRegion === config.primaryRegion) {
    throw new ConfigError(
      `Invalid configuration:\n  context 'backupRegion' = "${config.backupRegion}": must differ from primaryRegion (accepted: another region, or 'none')`,
    );
  }
  return config;
}

const ACCEPTED: Partial<Record<keyof ResponderConfig, string>> = {
  notificationEmails: 'comma-separated e-mail addresses, or a JSON list',
  slack: '{"workspaceId":"T...","channelId":"C..."}',
  mode: 'contain | notify-only | dry-run',
  revokeSessions: 'true | false',
  loginProfile: 'keep | delete',
  lookbackDays: '1 to 90',
  regions: 'all-enabled | comma-separated regions',
  exemptTag: 'an IAM tag key',
  revokeAssumedRoleSessions: 'true | false',
  evidenceRetentionDays: '1 to 3650',
  reportLinkDays: '0 (no link) to 7',
  primaryRegion: 'a region, default us-east-1',
  backupRegion: "a region other than primaryRegion, or 'none'",
  drills: 'true | false',
  canaryTag: 'an IAM tag key',
};
