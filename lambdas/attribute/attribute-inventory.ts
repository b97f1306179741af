import type { S3Client } from '@aws-sdk/client-s3';
import { forEachEvidenceRecord, putJson, readJson } from '../analyze/analyze-evidence';
import type { Summary } from '../analyze/types';
import { evidencePrefix } from '../collect/evidence';
import { attribute, indexRecord, newEvidenceIndex, type TrailRecord } from '../inventory/attribution';
import type { InventoryRegionOutput } from '../inventory/handler';
import { type DataEventsSeen, dataEventsFrom } from '../inventory/readers/cloudtrail';
import type { InventoryItem, ReaderResult } from '../inventory/types';
import type { ActivityManifest } from '../pivots/manifest';

export interface AttributeInput {
  incidentId: string;
  /** When AWS detected the exposure: the exposure began no later than this. */
  detectedAt: string;
  manifestKey?: string;
  summaryKey?: string;
  regions: InventoryRegionOutput[];
}

export interface AttributedInventory {
  itemsKey: string;
  items: number;
  createdByKey: number;
  unknown: number;
  /** Hourly list price of the compute the key made or that appeared since the exposure began. */
  estimatedHourlyUsd: number;
  exposureStart: string;
  /** Whether the account's logging trails record S3 object and Lambda data events, for the report. */
  dataEvents: DataEventsSeen;
  /** Services or regions that could not be read completely, with why. */
  incomplete: { region: string; service: string; error: string }[];
  /** The most urgent items, for the report; every item is in `itemsKey`. */
  top: Pick<
    InventoryItem,
    'service' | 'type' | 'id' | 'region' | 'createdByKey' | 'estimatedHourlyUsd' | 'cleanup'
  >[];
}

export const inventoryItemsKey = (incidentId: string) => `${evidencePrefix(incidentId)}/inventory/items.json`;

/**
 * Joins what exists now with what the key did: an item the key (or a key it minted) created is
 * its; one that appeared after the exposure began without such evidence is `unknown`; older,
 * untouched items are not reported.
 */
export async function attributeInventory(
  s3: S3Client,
  bucket: string,
  input: AttributeInput,
): Promise<AttributedInventory> {
  const index = newEvidenceIndex();
  let completeRegions = new Set<string>();
  if (input.manifestKey) {
    const manifest = await readJson<ActivityManifest>(s3, bucket, input.manifestKey);
    const keys = new Set(manifest.keys.map((k) => k.accessKeyId));
    completeRegions = new Set(manifest.regions.filter((r) => r.complete).map((r) => r.region));
    await forEachEvidenceRecord(s3, bucket, manifest, (record) =>
      indexRecord(index, record as TrailRecord, keys),
    );
  }
  const summary = input.summaryKey ? await readJson<Summary>(s3, bucket, input.summaryKey) : undefined;
  // The exposure began at the key's first use by the attacker, or at the latest when AWS saw it.
  const exposureStart = [summary?.firstUse, input.detectedAt]
    .filter((t): t is string => Boolean(t))
    .sort()[0];

  const raw: ReaderResult[] = [];
  const notInventoried: AttributedInventory['incomplete'] = [];
  let regionsRead = 0;
  for (const region of input.regions) {
    if (region.rawKey) {
      raw.push(...(await readJson<ReaderResult[]>(s3, bucket, region.rawKey)));
      regionsRead++;
    } else
      notInventoried.push({
        region: region.region,
        service: '*',
        error: region.failure ?? 'not inventoried',
      });
  }
  const items = attribute(
    raw.flatMap((r) => r.items),
    index,
    exposureStart,
    { completeRegions },
  );
  const itemsKey = inventoryItemsKey(input.incidentId);
  await putJson(s3, bucket, itemsKey, items);
  return {
    itemsKey,
    items: items.length,
    createdByKey: items.filter((i) => i.createdByKey === true).length,
    unknown: items.filter((i) => i.createdByKey === 'unknown').length,
    estimatedHourlyUsd: round(
      items.filter((i) => i.createdByKey !== false).reduce((sum, i) => sum + (i.estimatedHourlyUsd ?? 0), 0),
    ),
    exposureStart,
    dataEvents: dataEventsFrom(raw, regionsRead, input.regions.length),
    incomplete: [
      ...notInventoried,
      ...raw
        .filter((r) => !r.complete && r.error)
        .map((r) => ({ region: r.region, service: r.service, error: r.error ?? '' })),
    ].slice(0, 50),
    top: items
      .filter((i) => i.createdByKey !== false)
      .slice(0, 10)
      .map(({ service, type, id, region, createdByKey, estimatedHourlyUsd, cleanup }) => ({
        service,
        type,
        id,
        region,
        createdByKey,
        ...(estimatedHourlyUsd !== undefined ? { estimatedHourlyUsd } : {}),
        cleanup,
      })),
  };
}

function round(usd: number): number {
  return Math.round(usd * 100) / 100;
}
