import type { Context } from 'aws-lambda';
import { s3 } from '../shared/clients/s3';
import { required } from '../shared/env';
import { logger } from '../shared/powertools';
import { type AnalysisOutput, analyzeEvidence } from './analyze-evidence';

/** Say what the key did: findings in order of danger, from the collected evidence. */
export const handler = async (
  input: { activity: { manifestKey: string } },
  context?: Context,
): Promise<AnalysisOutput> => {
  if (context) logger.addContext(context);
  const out = await analyzeEvidence(s3, required('EVIDENCE_BUCKET'), input.activity.manifestKey);
  logger.info('Activity analyzed', {
    findings: out.findings,
    bySeverity: out.bySeverity,
    unreadable: out.unreadable,
  });
  return out;
};
