import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { textWithCard } from '../report/chatbot';
import { sns } from '../shared/clients/sns';
import { env, required } from '../shared/env';
import { classifyAwsError } from '../shared/errors';
import { messageKind } from '../shared/message-kind';
import { logger } from '../shared/powertools';
import { type FailureState, renderFailureAlert } from './render';

export interface NotifyFailureInput {
  state: FailureState;
  executionId?: string;
}

/** The failure path: says what was and was not done. Sends even when the state is half-built. */
export const handler = async (
  input: NotifyFailureInput,
  context?: Context,
): Promise<{ messageId: string }> => {
  if (context) logger.addContext(context);
  const { subject, message } = renderFailureAlert(input?.state ?? {}, {
    executionId: input?.executionId,
    stateMachineLogGroup: env().STATE_MACHINE_LOG_GROUP,
  });
  logger.error('Response failed', { subject, error: input?.state?.error, event: input?.state?.event });
  try {
    const out = await sns.send(
      new PublishCommand({
        TopicArn: required('ALERT_TOPIC_ARN'),
        ...textWithCard(subject, message, {
          id: input?.state?.intake?.incident?.incidentId ?? input?.executionId ?? 'unknown-incident',
          eventType: 'ExposedKeyResponseFailed',
        }),
        MessageAttributes: messageKind('failure'),
      }),
    );
    return { messageId: out.MessageId ?? '' };
  } catch (error) {
    throw classifyAwsError(
      'sns:Publish',
      error,
      'The failure alert was not sent; the failed-executions alarm still fires.',
    );
  }
};
