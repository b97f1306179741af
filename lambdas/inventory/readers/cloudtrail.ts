/**
 * The account's CloudTrail guard rails in one Region: each trail whose home is this Region, whether it is
 * logging, and whether it still records management events. An attacker who cannot stop a trail can blind
 * it instead (PutEventSelectors without management events), so both are checked.
 */
import {
  type AdvancedEventSelector,
  type CloudTrailClient,
  DescribeTrailsCommand,
  type EventSelector,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { trailCleanup } from '../cleanup';
import type { ReaderResult } from '../types';
import { compact, iso, mapLimit, type ReaderContext, runReader } from './common';

export type CloudTrailClients = { cloudtrail: CloudTrailClient };

export type GuardRailStatus = 'ok' | 'off' | 'degraded';

export interface ManagementCoverage {
  /** What is wrong, in words for the report; empty when management reads and writes are recorded. */
  problems: string[];
  /** Selectors that restore management events while keeping the trail's data-event selectors. */
  repair?: { eventSelectors?: EventSelector[]; advancedEventSelectors?: AdvancedEventSelector[] };
}

/** Whether a trail's selectors record management events, writes in particular (the attacker's calls). */
export function managementCoverage(
  eventSelectors: EventSelector[] | undefined,
  advanced: AdvancedEventSelector[] | undefined,
): ManagementCoverage {
  if (advanced && advanced.length > 0) {
    const management = advanced.filter((s) =>
      (s.FieldSelectors ?? []).some(
        (f) => f.Field === 'eventCategory' && (f.Equals ?? []).includes('Management'),
      ),
    );
    const restore = {
      advancedEventSelectors: [
        ...advanced,
        { Name: 'Management events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] },
      ],
    };
    if (management.length === 0) return { problems: ['management events are not recorded'], repair: restore };
    const readOnlyOnly = management.every((s) =>
      (s.FieldSelectors ?? []).some(
        (f) => f.Field === 'readOnly' && (f.Equals ?? []).every((v) => v === 'true'),
      ),
    );
    if (readOnlyOnly) return { problems: ['write management events are not recorded'], repair: restore };
    return { problems: [] };
  }
  if (!eventSelectors || eventSelectors.length === 0) return { problems: [] };
  const management = eventSelectors.filter((s) => s.IncludeManagementEvents !== false);
  // ReadWriteType applies to the selector's data events too; All records more, never less.
  const restore = {
    eventSelectors: eventSelectors.map((s) => ({
      ...s,
      IncludeManagementEvents: true,
      ReadWriteType: 'All' as const,
    })),
  };
  if (management.length === 0) return { problems: ['management events are not recorded'], repair: restore };
  if (management.every((s) => s.ReadWriteType === 'ReadOnly')) {
    return { problems: ['write management events are not recorded'], repair: restore };
  }
  return { problems: [] };
}

export interface DataEventCoverage {
  /** S3 object-level calls (GetObject, PutObject...) on at least some buckets. */
  s3: boolean;
  /** Lambda Invoke calls on at least some functions. */
  lambda: boolean;
}

const DATA_RESOURCE = { s3: 'AWS::S3::Object', lambda: 'AWS::Lambda::Function' } as const;

/**
 * Whether a trail's selectors record S3 object and Lambda invoke data events, reads in particular: the
 * report must say when an attacker's object reads could have gone unrecorded.
 */
export function dataEventCoverage(
  eventSelectors: EventSelector[] | undefined,
  advanced: AdvancedEventSelector[] | undefined,
): DataEventCoverage {
  const records = (resourceType: string): boolean => {
    if (advanced && advanced.length > 0) {
      return advanced.some((s) => {
        const fields = s.FieldSelectors ?? [];
        const is = (field: string, value: string) =>
          fields.some((f) => f.Field === field && (f.Equals ?? []).includes(value));
        const writesOnly = fields.some(
          (f) =>
            f.Field === 'readOnly' &&
            (f.Equals ?? []).length > 0 &&
            (f.Equals ?? []).every((v) => v === 'false'),
        );
        return is('eventCategory', 'Data') && is('resources.type', resourceType) && !writesOnly;
      });
    }
    return (eventSelectors ?? []).some(
      (s) => s.ReadWriteType !== 'WriteOnly' && (s.DataResources ?? []).some((d) => d.Type === resourceType),
    );
  };
  return { s3: records(DATA_RESOURCE.s3), lambda: records(DATA_RESOURCE.lambda) };
}

/** Per kind of data event: some logging trail records it, none does, or the trails could not all be read. */
export interface DataEventsSeen {
  s3: boolean | 'unknown';
  lambda: boolean | 'unknown';
}

/**
 * Whether a logging trail records S3 object and Lambda invoke data events. True wins (some trail does);
 * false needs every Region's trails read with their selectors; anything less is "unknown".
 */
export function dataEventsFrom(
  results: ReaderResult[],
  regionsRead: number,
  regionsPlanned: number,
): DataEventsSeen {
  const trailResults = results.filter((r) => r.service === 'cloudtrail');
  const trails = trailResults.flatMap((r) => r.items).filter((i) => i.details?.kind === 'trail');
  const logging = trails.filter((t) => t.details?.isLogging !== false);
  const coverage = logging.map(
    (t) => t.details?.dataEvents as { s3?: boolean; lambda?: boolean } | undefined,
  );
  const everythingRead =
    regionsPlanned > 0 &&
    regionsRead === regionsPlanned &&
    trailResults.length >= regionsPlanned &&
    trailResults.every((r) => r.complete) &&
    coverage.every((c) => c !== undefined);
  const of = (field: 's3' | 'lambda'): boolean | 'unknown' => {
    if (coverage.some((c) => c?.[field] === true)) return true;
    return everythingRead ? false : 'unknown';
  };
  return { s3: of('s3'), lambda: of('lambda') };
}

export async function readCloudTrail(ctx: ReaderContext<CloudTrailClients>): Promise<ReaderResult> {
  const { region, clients } = ctx;
  return runReader('cloudtrail', ctx, async (run) => {
    // Not paginated. Shadow copies of multi-Region trails are left out: each trail is read once, in its
    // home Region, where StartLogging has to be called anyway.
    const out = await run.call('cloudtrail:DescribeTrails', () =>
      clients.cloudtrail.send(new DescribeTrailsCommand({ includeShadowTrails: false })),
    );
    const trails = (out.trailList ?? []).filter(
      (t) => t.TrailARN && t.Name && (t.HomeRegion ?? region) === region,
    );
    await mapLimit(trails, 4, async (trail) => {
      const arn = trail.TrailARN as string;
      const name = trail.Name as string;
      const status = await run.optional('cloudtrail:GetTrailStatus', () =>
        clients.cloudtrail.send(new GetTrailStatusCommand({ Name: arn })),
      );
      const selectors = await run.optional('cloudtrail:GetEventSelectors', () =>
        clients.cloudtrail.send(new GetEventSelectorsCommand({ TrailName: arn })),
      );
      const coverage = selectors
        ? managementCoverage(selectors.EventSelectors, selectors.AdvancedEventSelectors)
        : { problems: [] };
      const stopped = status?.IsLogging === false;
      const problems = [
        ...(stopped
          ? [`logging is stopped${status?.StopLoggingTime ? ` since ${iso(status.StopLoggingTime)}` : ''}`]
          : []),
        ...coverage.problems,
        ...(status?.LatestDeliveryError ? [`log delivery fails: ${status.LatestDeliveryError}`] : []),
      ];
      const off = stopped || coverage.problems.length > 0;
      const guardRail: GuardRailStatus = off ? 'off' : problems.length > 0 ? 'degraded' : 'ok';
      run.items.push({
        service: 'cloudtrail',
        type: 'guard-rail',
        id: name,
        arn,
        region,
        // Trails are not dated by the API; what matters is their state and who changed it.
        createdByKey: 'unknown',
        ...trailCleanup(region, arn, { stopped, ...coverage.repair }),
        details: compact({
          kind: 'trail',
          status: guardRail,
          problems,
          isLogging: status?.IsLogging,
          multiRegion: trail.IsMultiRegionTrail,
          organizationTrail: trail.IsOrganizationTrail,
          s3Bucket: trail.S3BucketName,
          // Absent when the selectors could not be read: the report then says "unknown".
          dataEvents: selectors
            ? dataEventCoverage(selectors.EventSelectors, selectors.AdvancedEventSelectors)
            : undefined,
          stopLoggingTime: iso(status?.StopLoggingTime),
          latestDeliveryError: status?.LatestDeliveryError,
        }),
      });
    });
  });
}
