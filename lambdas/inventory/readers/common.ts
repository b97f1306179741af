/**
 * What every reader shares: calls with throttling backoff and a count, parts that fail on their own,
 * pagination that cannot loop forever, and bounded concurrency for per-resource calls.
 */

import { backoffMs } from '../../collect/token-bucket';
import { describeError, isAccessDenied, isTransient, TransientAwsError } from '../../shared/errors';
import type { InventoryItem, ReaderResult } from '../types';

export interface ReaderContext<C> {
  region: string;
  accountId: string;
  /** When the exposure began (or the look-back start): "new" means created at or after this. */
  since: Date;
  clients: C;
  /** Attempts per call when throttled. @default 6 */
  maxAttempts?: number;
  /** Injected by tests; real waits otherwise. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export type Reader<C> = (ctx: ReaderContext<C>) => Promise<ReaderResult>;

/**
 * The whole Region or service is out of reach for this account: not opted in, not offered there (no
 * endpoint), or the credentials are not recognised there. Every further call would fail the same way.
 */
const REGION_UNAVAILABLE = new Set([
  'OptInRequired',
  'AuthFailure',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SubscriptionRequiredException',
  'InvalidSignatureException',
]);
const NETWORK_UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN']);
/** Refusals beyond the shared set: Lightsail and Lambda spell theirs differently. */
const MORE_DENIED = new Set(['UnauthenticatedException', 'AuthorizationError', 'UnauthorizedException']);

function errorName(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? '';
}

export function isRegionUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  return REGION_UNAVAILABLE.has(errorName(error)) || NETWORK_UNREACHABLE.has(code);
}

export function isDenied(error: unknown): boolean {
  return isAccessDenied(error) || MORE_DENIED.has(errorName(error));
}

/** A call that failed in a way the inventory records instead of failing: the reader carries on without it. */
class RecordedFailure extends Error {
  constructor(
    readonly operation: string,
    readonly original: unknown,
    readonly regionWide: boolean,
  ) {
    super(`${operation}: ${describeError(original)}`);
    this.name = 'RecordedFailure';
  }
}

export class ReaderRun {
  readonly items: InventoryItem[] = [];
  apiCalls = 0;
  private readonly errors: string[] = [];
  private regionDown?: string;
  /** Operations already refused: permissions do not change mid-run, so they are not asked again. */
  private readonly refused = new Map<string, RecordedFailure>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxAttempts: number;

  constructor(
    readonly service: string,
    readonly ctx: ReaderContext<unknown>,
  ) {
    this.sleep = ctx.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = ctx.random ?? Math.random;
    this.maxAttempts = ctx.maxAttempts ?? 6;
  }

  /**
   * Sends one request. Throttling and server faults are retried with full-jitter backoff (on top of the
   * SDK's own retries: a Region-wide inventory meets sustained throttling the SDK's few attempts do not
   * outlast). Refusals and unreachable Regions become RecordedFailure (a refused operation is not sent
   * again in this run); anything else is a bug or a bad request and propagates unchanged.
   */
  async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    const refused = this.refused.get(operation);
    if (refused) throw refused;
    for (let attempt = 0; ; attempt++) {
      this.apiCalls += 1;
      try {
        return await send();
      } catch (error) {
        if (isDenied(error)) {
          const failure = new RecordedFailure(operation, error, false);
          this.refused.set(operation, failure);
          throw failure;
        }
        if (isRegionUnavailable(error)) throw new RecordedFailure(operation, error, true);
        if (!isTransient(error)) throw error;
        if (attempt + 1 >= this.maxAttempts) {
          throw new RecordedFailure(
            operation,
            new TransientAwsError(
              `still failing after ${this.maxAttempts} attempts (${describeError(error)})`,
            ),
            false,
          );
        }
        await this.sleep(backoffMs(attempt, 250, 8_000, this.random));
      }
    }
  }

  /**
   * Runs one part of the inventory (instances, snapshots, ...). A part that is refused or throttled out is
   * recorded and the others still run: a missing `ec2:DescribeSnapshots` must not hide running miners. A
   * Region that is unreachable stops the remaining parts, which would only fail the same way.
   */
  async part(name: string, body: () => Promise<void>): Promise<void> {
    if (this.regionDown) return;
    try {
      await body();
    } catch (error) {
      if (!(error instanceof RecordedFailure)) throw error;
      if (error.regionWide) this.regionDown = error.message;
      else this.note(`${name}: ${error.message}`);
    }
  }

  /** Like `call`, but a refusal yields undefined and is recorded: for per-resource details. */
  async optional<T>(operation: string, send: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(operation, send);
    } catch (error) {
      if (!(error instanceof RecordedFailure) || error.regionWide) throw error;
      this.note(error.message);
      return undefined;
    }
  }

  /** Records a gap that is not an API failure (a cap reached), making the result incomplete. */
  note(message: string): void {
    if (!this.errors.includes(message)) this.errors.push(message);
  }

  result(): ReaderResult {
    const errors = this.regionDown ? [this.regionDown, ...this.errors] : this.errors;
    return {
      service: this.service,
      region: this.ctx.region,
      items: this.items,
      complete: errors.length === 0,
      ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
      apiCalls: this.apiCalls,
    };
  }
}

/** Runs a reader's body as one part, so any refusal it does not handle itself is recorded, not thrown. */
export async function runReader<C>(
  service: string,
  ctx: ReaderContext<C>,
  body: (run: ReaderRun) => Promise<void>,
): Promise<ReaderResult> {
  const run = new ReaderRun(service, ctx);
  await run.part(service, () => body(run));
  return run.result();
}

/** A result for a reader that has nothing to do here, and says why. */
export function skipped(service: string, region: string, reason: string): ReaderResult {
  return { service, region, items: [], complete: true, apiCalls: 0, skipped: reason };
}

/**
 * Follows a pagination token until the service stops sending one. A token seen twice means a service (or
 * an emulator) that would page forever: the loop stops and the gap is recorded.
 */
export async function paginate<P>(
  run: ReaderRun,
  operation: string,
  fetch: (token: string | undefined) => Promise<P>,
  nextToken: (page: P) => string | undefined,
  onPage: (page: P) => void,
): Promise<void> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await run.call(operation, () => fetch(token));
    onPage(page);
    token = nextToken(page) || undefined;
    if (token !== undefined && seen.has(token)) {
      run.note(`${operation}: the service repeated a page token; listing stopped there`);
      return;
    }
    if (token !== undefined) seen.add(token);
  } while (token !== undefined);
}

/**
 * Runs `fn` over `items`, at most `limit` at a time, keeping the order of results. After a failure no new
 * item starts, and the failure is thrown once the calls in flight have settled: nothing keeps adding to a
 * result that has already been returned.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}

export const iso = (date: Date | string | undefined): string | undefined => {
  if (date === undefined) return undefined;
  const d = date instanceof Date ? date : new Date(date);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
};

/** True when `date` is at or after `since`; an unknown date counts as new, so nothing is hidden for lack of one. */
export const isNew = (date: Date | string | undefined, since: Date): boolean => {
  const value = iso(date);
  return value === undefined || Date.parse(value) >= since.getTime();
};

/** Drops undefined fields and empty lists, so details stay small in the evidence bundle. */
export function compact(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(details).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
}
