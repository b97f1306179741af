/**
 * The account's GuardDuty guard rail in one Region: each detector and whether it is enabled. A Region with
 * no detector yields nothing, as a Region with no trail does in the CloudTrail reader: a detector the key
 * deleted is reported from its DeleteDetector call (see attribution.ts), not from its absence.
 */
import { GetDetectorCommand, type GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { detectorCleanup } from '../cleanup';
import type { ReaderResult } from '../types';
import type { GuardRailStatus } from './cloudtrail';
import { compact, iso, mapLimit, paginate, type ReaderContext, runReader } from './common';

export type GuardDutyClients = { guardduty: GuardDutyClient };

export async function readGuardDuty(ctx: ReaderContext<GuardDutyClients>): Promise<ReaderResult> {
  const { region, accountId, clients } = ctx;
  return runReader('guardduty', ctx, async (run) => {
    const ids: string[] = [];
    await paginate(
      run,
      'guardduty:ListDetectors',
      (NextToken) => clients.guardduty.send(new ListDetectorsCommand({ NextToken })),
      (page) => page.NextToken,
      (page) => ids.push(...(page.DetectorIds ?? []).filter(Boolean)),
    );
    await mapLimit(ids, 4, async (id) => {
      const detector = await run.optional('guardduty:GetDetector', () =>
        clients.guardduty.send(new GetDetectorCommand({ DetectorId: id })),
      );
      const disabled = detector?.Status === 'DISABLED';
      const problems = disabled ? ['the detector is disabled'] : [];
      // Unread (GetDetector refused) is not "ok": attribution then keeps it as unknown, not as healthy.
      const status: GuardRailStatus | 'unread' = !detector ? 'unread' : disabled ? 'off' : 'ok';
      const link = detectorCleanup(region, id, false);
      run.items.push({
        service: 'guardduty',
        type: 'guard-rail',
        id,
        arn: `arn:aws:guardduty:${region}:${accountId}:detector/${id}`,
        region,
        createdAt: iso(detector?.CreatedAt),
        createdByKey: 'unknown',
        ...(disabled ? link : { cleanup: '# nothing to remove', consoleUrl: link.consoleUrl }),
        details: compact({
          kind: 'detector',
          status,
          problems,
          detectorStatus: detector?.Status,
          updatedAt: iso(detector?.UpdatedAt),
          findingPublishingFrequency: detector?.FindingPublishingFrequency,
        }),
      });
    });
  });
}
