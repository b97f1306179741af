/**
 * The AWS Health event type codes that mean "a credential of this account leaked".
 * Imported by the EventBridge rules (lib/) and by Intake, so the two can never disagree.
 * Sources: aws/aws-health-tools PR #97 and issue #93, hmrc/platsec-compliance-alerting.
 */
export const KEY_EXPOSURE_EVENT_CODES = [
  'AWS_RISK_CREDENTIALS_EXPOSED',
  'AWS_RISK_CREDENTIALS_EXPOSURE_SUSPECTED',
  'AWS_RISK_CREDENTIALS_COMPROMISED',
  'AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED',
  // Sometimes the only event that arrives, with region "global".
  'AWS_RISK_IAM_QUARANTINE',
] as const;

/** A console password, not a key: the responder alerts with the manual steps. */
export const CONSOLE_COMPROMISE_EVENT_CODE = 'AWS_RISK_ACCOUNT_CONSOLE_COMPROMISE';

export const LEAK_EVENT_CODES: readonly string[] = [
  ...KEY_EXPOSURE_EVENT_CODES,
  CONSOLE_COMPROMISE_EVENT_CODE,
];

/** The custom source of drill events. Only routed when the stack enables drills. */
export const DRILL_SOURCE = 'exposed-key-responder.drill';

/** AWS's own quarantine managed policies: V2, V3 and (since 2026-11) V4 share this prefix. */
export const QUARANTINE_POLICY_ARN_PREFIX = 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine';

/** Long-term IAM user access key IDs. ASIA (temporary) keys cannot be deactivated. */
export const ACCESS_KEY_ID = /^AKIA[A-Z0-9]{16}$/;
export const TEMPORARY_KEY_ID = /^ASIA[A-Z0-9]{16}$/;
