import type { Context } from 'aws-lambda';
import type { InventoryRegionOutput } from '../inventory/handler';
import { s3 } from '../shared/clients/s3';
import { required } from '../shared/env';
import { logger } from '../shared/powertools';
import type { Incident } from '../shared/types';
import { type AttributedInventory, attributeInventory } from './attribute-inventory';

/** What the workflow hands over; activity and analysis are `{skipped}` when there was nothing to read. */
interface StepInput {
  incident: Incident;
  activity?: { manifestKey?: string };
  analysis?: { summaryKey?: string };
  inventory?: InventoryRegionOutput[];
}

/** Which of the resources found the attacker left behind, with their cost and clean-up. */
export const handler = async (input: StepInput, context?: Context): Promise<AttributedInventory> => {
  if (context) logger.addContext(context);
  const out = await attributeInventory(s3, required('EVIDENCE_BUCKET'), {
    incidentId: input.incident.incidentId,
    detectedAt: input.incident.detectedAt,
    manifestKey: input.activity?.manifestKey,
    summaryKey: input.analysis?.summaryKey,
    regions: input.inventory ?? [],
  });
  logger.info('Inventory attributed', {
    items: out.items,
    createdByKey: out.createdByKey,
    unknown: out.unknown,
  });
  return out;
};
