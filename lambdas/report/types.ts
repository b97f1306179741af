/**
 * What the Report step renders from: everything the workflow gathered, each part optional because any
 * step before it can fail or be skipped. A missing part is said in every output, never hidden.
 */
import type { CallMark, Finding, Summary } from '../analyze/types';
import type { ActivityManifest } from '../pivots/manifest';
import type { ContainmentResult, Incident, IntakeResult } from '../shared/types';

/**
 * One resource the Inventory step found. Declared here, field for field, because the inventory module is
 * written in parallel; its `InventoryItem` is assignable to this.
 */
export interface ReportInventoryItem {
  service: string;
  type: string;
  /** The identifier the clean-up command takes. Attacker-chosen names land here: never trust it as markup. */
  id: string;
  arn?: string;
  /** An AWS Region, or `global` for IAM. */
  region: string;
  createdAt?: string;
  /** True: the key (or a key it minted) made or changed it. False: a guard rail it left alone. */
  createdByKey: true | false | 'unknown';
  evidenceEventId?: string;
  estimatedHourlyUsd?: number;
  /** An AWS CLI line for a person to review and run. */
  cleanup: string;
  consoleUrl: string;
}

export interface InventoryCoverage {
  region: string;
  service: string;
  complete: boolean;
  error?: string;
}

/** One call, for the timeline picture (the analysis's mark). `eventId` ties a mark to the evidence; absent, one is made up. */
export type TimelineEvent = Omit<CallMark, 'eventId'> & { eventId?: string };

/** Whether the account's trails record data events, as far as the responder could tell. */
export interface DataEventsCoverage {
  s3: boolean | 'unknown';
  lambda: boolean | 'unknown';
}

export interface ReportLinks {
  /** The HTML report (console or bucket URL). */
  reportUrl?: string;
  /** The evidence prefix in the S3 console. */
  evidenceConsoleUrl?: string;
  /** A presigned GET of the report: a bearer link, so it goes to email and the HTML only, never to chat. */
  presignedUrl?: string;
  /** The latest the link can work; sooner when `presignedSessionBound`. */
  presignedExpiresAt?: string;
  /**
   * Signed with temporary credentials whose end the signer could not read (a Lambda role's session): the
   * link stops working when that session ends, usually within hours, whatever `presignedExpiresAt` says.
   */
  presignedSessionBound?: boolean;
}

export interface ReportInput {
  incident: Incident;
  intake: IntakeResult;
  containment: ContainmentResult[];
  activity?: ActivityManifest | { skipped: string };
  analysis?: { findings: Finding[]; summary: Summary };
  inventory?: { items: ReportInventoryItem[]; coverage: InventoryCoverage[] };
  dataEvents?: DataEventsCoverage;
  /** Parts the workflow knows are missing (a failed step, a skipped branch), and why. */
  missing: { part: string; why: string }[];
  links: ReportLinks;
  generatedAt: string;
  /** Every call, for the picture; when absent, the findings are drawn instead. */
  timelineEvents?: TimelineEvent[];
  /** Calls the analysis left out of `timelineEvents` (past its cap, from the middle of the activity). */
  timelineOmitted?: number;
}
