import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { textWithCard } from '../report/chatbot';
import { sns } from '../shared/clients/sns';
import { required } from '../shared/env';
import { classifyAwsError } from '../shared/errors';
import { once } from '../shared/idempotency';
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

/**
 * A retried step or a re-delivered notification never alerts twice. Keyed on the incident and its keys: a
 * notification arriving in pages shares one incident ID, and each page (other keys) deserves its own alert.
 */
const sendOnce = once(sendAlert, {
  keyJmesPath: '[intake.incident.incidentId, intake.keys[].accessKeyId]',
  keyPrefix: 'containment-alert',
});

/** Step 3: the first message, right after containment. */
export const handler = async (input: AlertInput, context?: Context): Promise<AlertOutput> => {
  if (context) logger.addContext(context);
  const out = await sendOnce(input, context);
  logger.info(out.sent ? 'Alert sent' : 'Nothing new to alert', {
    incidentId: input.intake.incident.incidentId,
    subject: out.subject,
    allHandled: out.allHandled,
  });
  return out;
};
