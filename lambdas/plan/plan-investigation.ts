import { DescribeRegionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { classifyAwsError } from '../shared/errors';
import type { ContainmentResult, IntakeResult } from '../shared/types';

/** IAM, STS's global endpoint and sign-in log only here (since 2021-11): always searched. */
export const GLOBAL_EVENTS_REGION = 'us-east-1';

/** Decisions for which the key is real in this account, so its activity is worth reading. */
const INVESTIGATED = new Set(['contained', 'notify-only', 'dry-run', 'manual-required']);

export interface InvestigationPlan {
  incidentId: string;
  window: { start: string; end: string };
  regions: string[];
  /** 1 for the exposed keys, 2 for the keys they minted, and so on. */
  round: number;
  /** The keys to collect this round. */
  keys: string[];
  /** Every key collected or queued so far, exposed and pivots. */
  seen: string[];
}

export interface PlanSettings {
  regions: 'all-enabled' | string[];
  lookbackDays: number;
  now?: () => Date;
}

export async function planInvestigation(
  ec2: EC2Client,
  settings: PlanSettings,
  input: { intake: IntakeResult; containment: ContainmentResult[] },
): Promise<InvestigationPlan> {
  const now = (settings.now ?? (() => new Date()))();
  const keys = input.containment
    .filter((r) => INVESTIGATED.has(r.decision) && !r.duplicateOf)
    .map((r) => r.accessKeyId);
  const regions = keys.length === 0 ? [] : await regionsToSearch(ec2, settings.regions);
  // CloudTrail keeps 90 days of management events; the window end is fixed so every page is stable.
  const days = Math.min(90, Math.max(1, settings.lookbackDays));
  return {
    incidentId: input.intake.incident.incidentId,
    window: { start: new Date(now.getTime() - days * 86_400_000).toISOString(), end: now.toISOString() },
    regions,
    round: 1,
    keys,
    seen: keys,
  };
}

async function regionsToSearch(ec2: EC2Client, configured: 'all-enabled' | string[]): Promise<string[]> {
  let regions: string[];
  if (configured === 'all-enabled') {
    try {
      // Without AllRegions, DescribeRegions lists only the regions enabled for the account.
      const out = await ec2.send(new DescribeRegionsCommand({}));
      regions = (out.Regions ?? []).map((r) => r.RegionName ?? '').filter(Boolean);
    } catch (error) {
      throw classifyAwsError(
        'ec2:DescribeRegions',
        error,
        'The investigation cannot list the regions to search.',
      );
    }
  } else {
    regions = [...configured];
  }
  return [GLOBAL_EVENTS_REGION, ...[...new Set(regions)].filter((r) => r !== GLOBAL_EVENTS_REGION).sort()];
}
