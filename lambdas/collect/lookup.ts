import {
  type CloudTrailClient,
  type Event as LookupEvent,
  LookupEventsCommand,
  type LookupEventsCommandOutput,
} from '@aws-sdk/client-cloudtrail';
import { describeError, isAccessDenied, isTransient, TransientAwsError } from '../shared/errors';
import { backoffMs, type TokenBucket } from './token-bucket';

/** Where a key's collection in one region stands; carried by the workflow between invocations. */
export interface Cursor {
  /** The token of the next page, or undefined before the first page. */
  nextToken?: string;
  /** Pages read so far; also the number of the next evidence part. */
  pages: number;
  events: number;
  done: boolean;
  /** Set when the region cannot be read: recorded as incomplete, never fatal. */
  error?: string;
}

export interface PageSink {
  /** Stores one page of records; called before the cursor moves past it, so a retry rewrites the same part. */
  write(partNumber: number, records: string[]): Promise<void>;
}

export interface CollectOptions {
  client: CloudTrailClient;
  bucket: TokenBucket;
  accessKeyId: string;
  startTime: Date;
  endTime: Date;
  cursor: Cursor;
  sink: PageSink;
  /** Stop reading new pages after this time (ms since epoch), leaving the cursor for the next invocation. */
  deadline: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Consecutive throttles or faults on one page before the invocation gives up and the workflow retries. */
  maxAttempts?: number;
  onPage?: (page: LookupEvent[]) => void;
}

/** Errors that mean "this region cannot be read by us", not "try again". */
const REGION_UNAVAILABLE = new Set([
  'OptInRequired',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'AuthFailure',
  'OperationNotPermittedException',
  'CloudTrailAccessNotEnabledException',
]);

/**
 * Reads the key's LookupEvents pages in one region from the cursor on, within the deadline.
 * Each page is stored before the cursor moves past it, so an invocation that dies mid-way is
 * retried from the last stored page: no page is lost, and a page read twice overwrites itself.
 */
export async function collectPages(options: CollectOptions): Promise<Cursor> {
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxAttempts = options.maxAttempts ?? 8;
  const cursor: Cursor = { ...options.cursor };

  while (!cursor.done && clock() < options.deadline) {
    let page: LookupEventsCommandOutput | undefined;
    for (let attempt = 0; page === undefined; attempt++) {
      await options.bucket.take();
      try {
        page = await options.client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: options.accessKeyId }],
            StartTime: options.startTime,
            EndTime: options.endTime,
            MaxResults: 50,
            NextToken: cursor.nextToken,
          }),
        );
      } catch (error) {
        const name = (error as { name?: string }).name ?? '';
        if (REGION_UNAVAILABLE.has(name) || isAccessDenied(error)) {
          return { ...cursor, done: true, error: describeError(error) };
        }
        if (!isTransient(error) && name !== 'ThrottlingException') throw error;
        if (attempt + 1 >= maxAttempts) {
          throw new TransientAwsError(
            `cloudtrail:LookupEvents kept failing (${describeError(error)}) after ${maxAttempts} attempts; the workflow retries from page ${cursor.pages}.`,
          );
        }
        if (name === 'ThrottlingException') options.bucket.drain();
        await sleep(backoffMs(attempt));
      }
    }
    const events = page.Events ?? [];
    const records = events.map((e) => e.CloudTrailEvent ?? '').filter((r) => r.length > 0);
    if (records.length > 0) await options.sink.write(cursor.pages, records);
    options.onPage?.(events);
    cursor.pages += 1;
    cursor.events += records.length;
    cursor.nextToken = page.NextToken;
    cursor.done = !page.NextToken;
  }
  return cursor;
}
