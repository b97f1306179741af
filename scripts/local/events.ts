import { randomUUID } from 'node:crypto';
import type { DRILL_SOURCE } from '../../lambdas/shared/event-codes';

export interface HealthEventOptions {
  accessKeyIds: string[];
  accountId: string;
  userName?: string;
  eventTypeCode?: string;
  communicationId?: string;
  region?: string;
  source?: 'aws.health' | typeof DRILL_SOURCE;
  detectedAt?: Date;
  backupEvent?: boolean;
}

/** An AWS Health leaked-key event, shaped as AWS sends it (see shared/notes/aws-facts.md). */
export function healthEvent(options: HealthEventOptions): Record<string, unknown> {
  const code = options.eventTypeCode ?? 'AWS_RISK_CREDENTIALS_EXPOSED';
  const detected = options.detectedAt ?? new Date(Date.now() - 60_000);
  const region = options.region ?? 'us-east-1';
  const http = detected.toUTCString();
  const [first] = options.accessKeyIds;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS Health Event',
    source: options.source ?? 'aws.health',
    account: options.accountId,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [...options.accessKeyIds],
    detail: {
      eventArn: `arn:aws:health:${region}::event/RISK/${code}/${code}-${randomUUID().slice(0, 8)}`,
      service: 'RISK',
      eventTypeCode: code,
      eventTypeCategory: 'issue',
      eventScopeCode: 'ACCOUNT_SPECIFIC',
      communicationId: options.communicationId ?? randomUUID(),
      startTime: http,
      lastUpdatedTime: http,
      statusCode: 'open',
      eventRegion: region,
      eventDescription: [
        { language: 'en_US', latestDescription: 'Your AWS Account may be compromised! ...' },
      ],
      eventMetadata: {
        accountId: options.accountId,
        ...(first ? { publicKey: first } : {}),
        ...(options.userName ? { userName: options.userName } : {}),
        exposedUrl: 'https://github.com/example/leaky-repo/blob/main/.env',
        truncated: 'false',
      },
      affectedEntities: options.accessKeyIds.map((entityValue) => ({ entityValue, lastUpdatedTime: http })),
      affectedAccount: options.accountId,
      page: '1',
      totalPages: '1',
      ...(options.backupEvent ? { backupEvent: 'true' } : {}),
    },
  };
}

/** Fills {{VICTIM_KEY}}, {{SECOND_KEY}} and {{ACCOUNT_ID}} in an event file's text. */
export function fillPlaceholders(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (match, name: string) => values[name] ?? match);
}
