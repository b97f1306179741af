import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { textWithCard } from '../report/chatbot';
import { iam } from '../shared/clients/iam';
import { sns } from '../shared/clients/sns';
import { env, required } from '../shared/env';
import { classifyAwsError } from '../shared/errors';
import { once } from '../shared/idempotency';
import { messageKind } from '../shared/message-kind';
import { logger } from '../shared/powertools';
import type { ContainmentResult, IntakeResult } from '../shared/types';
import { type Confirmation, confirmContainment, renderUndoneAlert } from './confirm-containment';

export interface ConfirmInput {
  intake: IntakeResult;
  containment: ContainmentResult[];
}

export interface ConfirmOutput {
  confirmations: Confirmation[];
  /** False when something had been undone: the execution then ends as failed, after the alert. */
  held: boolean;
}

type UndoneAlertInput = ConfirmInput & { undone: Confirmation[] };

/** The undone-containment alert, once per incident and keys even if the step is retried. */
const alertOnce = once(
  async (input: UndoneAlertInput) => {
    const { subject, message } = renderUndoneAlert(input.intake.incident, input.undone);
    try {
      await sns.send(
        new PublishCommand({
          TopicArn: required('ALERT_TOPIC_ARN'),
          ...textWithCard(subject, message, {
            id: input.intake.incident.incidentId,
            eventType: 'ExposedKeyContainmentUndone',
          }),
          MessageAttributes: messageKind('confirmation'),
        }),
      );
    } catch (error) {
      throw classifyAwsError(
        'sns:Publish',
        error,
        'The containment was re-applied but the alert was not sent.',
      );
    }
    return { alertSent: true };
  },
  {
    keyJmesPath: '[intake.incident.incidentId, intake.keys[].accessKeyId]',
    keyPrefix: 'containment-undone-alert',
  },
);

/** After IAM has settled: is the key still inactive and the session deny still there? */
export const handler = async (input: ConfirmInput, context?: Context): Promise<ConfirmOutput> => {
  if (context) logger.addContext(context);
  const settings = env();
  const confirmations = await confirmContainment(
    iam,
    { revokeSessions: settings.REVOKE_SESSIONS, revokePolicyName: settings.REVOKE_POLICY_NAME },
    input.containment,
  );
  const undone = confirmations.filter((c) => !c.held);
  if (undone.length) {
    logger.warn('Containment was undone and re-applied', {
      incidentId: input.intake.incident.incidentId,
      undone,
    });
    await alertOnce({ ...input, undone });
  }
  return { confirmations, held: undone.length === 0 };
};
