import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { type Cursor, collectPages, type PageSink } from './lookup';
import { type Pivot, pivotOf } from './pivots';
import { TokenBucket } from './token-bucket';

/** CloudTrail's documented limit: 2 LookupEvents requests per second per account and region. */
export const LOOKUP_RATE_PER_SECOND = 2;
/**
 * Pivots carried per region and round. The workflow's state is capped at 256 KB across all
 * regions; an attacker minting more than this in one region is reported as truncated.
 */
const MAX_PIVOTS = 10;

export interface KeyRegionResult {
  accessKeyId: string;
  region: string;
  events: number;
  pages: number;
  complete: boolean;
  error?: string;
}

export interface RegionProgress {
  /** Index in `keys` of the key being read. */
  keyIndex: number;
  cursor: Cursor;
  results: KeyRegionResult[];
  pivots: Pivot[];
  pivotsTruncated?: boolean;
  /** Set by the workflow when it gave up on the region (retries exhausted, a timeout): {Error, Cause}. */
  failure?: { Error?: string; Cause?: string };
  invocations: number;
  done: boolean;
}

/** One Map item of the workflow: the keys of this round, in one region. */
export interface RegionTask {
  incidentId: string;
  region: string;
  window: { start: string; end: string };
  keys: string[];
  progress?: RegionProgress;
}

export interface RegionDeps {
  client: CloudTrailClient;
  sinkFor: (accessKeyId: string) => PageSink;
  deadline: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Reads every key of the task in its region, one after the other (they share the region's
 * request budget), until done or the deadline; the returned task carries where to go on.
 */
export async function collectRegion(
  task: RegionTask,
  deps: RegionDeps,
): Promise<RegionTask & { progress: RegionProgress }> {
  const progress: RegionProgress = task.progress
    ? { ...task.progress, invocations: task.progress.invocations + 1 }
    : {
        keyIndex: 0,
        cursor: freshCursor(),
        results: [],
        pivots: [],
        invocations: 1,
        done: task.keys.length === 0,
      };
  const bucket = new TokenBucket(LOOKUP_RATE_PER_SECOND, 1, deps.clock, deps.sleep);
  const clock = deps.clock ?? Date.now;

  while (!progress.done && clock() < deps.deadline) {
    const accessKeyId = task.keys[progress.keyIndex];
    const cursor = await collectPages({
      client: deps.client,
      bucket,
      accessKeyId,
      startTime: new Date(task.window.start),
      endTime: new Date(task.window.end),
      cursor: progress.cursor,
      sink: deps.sinkFor(accessKeyId),
      deadline: deps.deadline,
      clock: deps.clock,
      sleep: deps.sleep,
      onPage: (events) => {
        for (const event of events) {
          const pivot = event.CloudTrailEvent ? pivotOf(event.CloudTrailEvent) : undefined;
          if (!pivot || progress.pivots.some((p) => p.accessKeyId === pivot.accessKeyId)) continue;
          if (progress.pivots.length >= MAX_PIVOTS) progress.pivotsTruncated = true;
          else progress.pivots.push(pivot);
        }
      },
    });
    progress.cursor = cursor;
    if (!cursor.done) break;
    progress.results.push({
      accessKeyId,
      region: task.region,
      events: cursor.events,
      pages: cursor.pages,
      complete: !cursor.error,
      ...(cursor.error ? { error: cursor.error } : {}),
    });
    progress.keyIndex += 1;
    progress.cursor = freshCursor();
    // A region we cannot read is unreadable for every key: record the rest without asking again.
    if (cursor.error) {
      for (const rest of task.keys.slice(progress.keyIndex)) {
        progress.results.push({
          accessKeyId: rest,
          region: task.region,
          events: 0,
          pages: 0,
          complete: false,
          error: cursor.error,
        });
      }
      progress.keyIndex = task.keys.length;
    }
    progress.done = progress.keyIndex >= task.keys.length;
  }
  return { ...task, progress };
}

function freshCursor(): Cursor {
  return { pages: 0, events: 0, done: false };
}
