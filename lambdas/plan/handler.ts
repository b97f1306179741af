import type { Context } from 'aws-lambda';
import { ec2 } from '../shared/clients/ec2';
import { env } from '../shared/env';
import { logger } from '../shared/powertools';
import type { ContainmentResult, IntakeResult } from '../shared/types';
import { type InvestigationPlan, planInvestigation } from './plan-investigation';

/** Which keys to investigate, in which regions, over which window. */
export const handler = async (
  input: { intake: IntakeResult; containment: ContainmentResult[] },
  context?: Context,
): Promise<InvestigationPlan> => {
  if (context) logger.addContext(context);
  const settings = env();
  const regions =
    settings.REGIONS === 'all-enabled' ? 'all-enabled' : settings.REGIONS.split(',').map((r) => r.trim());
  const plan = await planInvestigation(ec2, { regions, lookbackDays: settings.LOOKBACK_DAYS }, input);
  logger.info('Investigation planned', {
    keys: plan.keys,
    regions: plan.regions.length,
    window: plan.window,
  });
  return plan;
};
