import type { Context } from 'aws-lambda';
import { iam } from '../shared/clients/iam';
import { env } from '../shared/env';
import { logger, tracer } from '../shared/powertools';
import type { IntakeResult } from '../shared/types';
import { intake } from './intake';

export interface IntakeInput {
  event: unknown;
}

/** Step 1: validate the raw event into an Incident. A bad event throws InvalidEventError. */
export const handler = async (input: IntakeInput, context?: Context): Promise<IntakeResult> => {
  logger.addContext(context ?? ({} as Context));
  try {
    const result = await intake(
      input?.event,
      { drillsEnabled: env().DRILLS_ENABLED, receivedAt: new Date(), primaryRegion: process.env.AWS_REGION },
      iam,
    );
    logger.info('Incident opened', {
      incidentId: result.incident.incidentId,
      trigger: result.incident.trigger,
      keys: result.keys.map((k) => k.accessKeyId),
      rejected: result.rejected.length,
    });
    tracer.putAnnotation('incidentId', result.incident.incidentId);
    return result;
  } catch (error) {
    // The full event goes to the log so a rejected event is never lost.
    logger.error('Event rejected', { error, event: input?.event });
    throw error;
  }
};
