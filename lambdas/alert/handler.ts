import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { textWithCard } from '../report/chatbot';
import { dynamodb } from '../shared/clients/dynamodb';
import { sns } from '../shared/clients/sns';
import { env, required } from '../shared/env';
import { classifyAwsError } from '../shared/errors';
import { messageKind } from '../shared/message-kind';
import { logger } from '../shared/powertools';
import type { AlertResult, ContainmentResult, IntakeResult } from '../shared/types';
import { renderContainmentAlert } from './render';

export interface AlertInput {
  intake: IntakeResult;
  containment: ContainmentResult[];
}

export interface AlertOutput extends AlertResult {
  sent: boolean;
  /** Keys this incident deactivated: the workflow confirms them once IAM has settled. */
  containedCount: number;
}

async function sendAlert(input: AlertInput): Promise<AlertOutput> {
  const fresh = input.containment.filter((r) => !r.duplicateOf);
  const nothingNew =
    input.containment.length > 0 &&
    fresh.length === 0 &&
    input.intake.ambiguous.length === 0 &&
    input.intake.consoleUsers.length === 0;
  if (nothingNew) {
    // Every key was handled by an earlier incident, which already alerted: end quietly.
    return { sent: false, messageId: '', subject: '', allHandled: true, containedCount: 0 };
  }
  const rendered = renderContainmentAlert(input.intake, input.containment);
  try {
    const message = textWithCard(rendered.subject, rendered.message, {
      id: input.intake.incident.incidentId,
      eventType: 'ExposedKeyContainment',
    });
    const out = await sns.send(
      new PublishCommand({
        TopicArn: required('ALERT_TOPIC_ARN'),
        ...message,
        MessageAttributes: messageKind('containment'),
      }),
    );
    return {
      sent: true,
      messageId: out.MessageId ?? '',
      subject: rendered.subject,
      allHandled: rendered.allHandled,
      containedCount: fresh.filter((r) => r.decision === 'contained').length,
    };
  } catch (error) {
    throw classifyAwsError('sns:Publish', error, 'The containment alert was not sent.');
  }
}

let idempotent: { send: (input: AlertInput) => Promise<AlertOutput>; config: IdempotencyConfig } | undefined;

/** A retried step or a re-delivered notification never alerts twice. */
function idempotentSend() {
  if (!idempotent) {
    const config = new IdempotencyConfig({
      // The incident and its keys: a notification arriving in pages shares one incident ID, and
      // each page (other keys) deserves its own alert; a re-delivered page does not.
      eventKeyJmesPath: '[intake.incident.incidentId, intake.keys[].accessKeyId]',
      expiresAfterSeconds: env().DEDUPE_WINDOW_SECONDS,
    });
    const send = makeIdempotent(sendAlert, {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: required('IDEMPOTENCY_TABLE'),
        awsSdkV3Client: dynamodb,
      }),
      config,
      keyPrefix: 'containment-alert',
    });
    idempotent = { send, config };
  }
  return idempotent;
}

/** Step 3: the first message, right after containment. */
export const handler = async (input: AlertInput, context?: Context): Promise<AlertOutput> => {
  const { send, config } = idempotentSend();
  if (context) {
    logger.addContext(context);
    config.registerLambdaContext(context);
  }
  const out = await send(input);
  logger.info(out.sent ? 'Alert sent' : 'Nothing new to alert', {
    incidentId: input.intake.incident.incidentId,
    subject: out.subject,
    allHandled: out.allHandled,
  });
  return out;
};
