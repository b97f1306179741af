/**
 * Named errors. Step Functions matches Retry and Catch on the `name` (it becomes the task's
 * `Error`), so these names are a contract with lib/workflow.ts: rename both or neither.
 */

abstract class ResponderError extends Error {
  protected constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The event is not one the responder can act on. Not retried: the same input fails the same way. */
export class InvalidEventError extends ResponderError {
  constructor(message: string) {
    super('InvalidEventError', message);
  }
}

/** A drill event named a user without the canary tag, or drills are off. Never retried. */
export class DrillNotAllowedError extends ResponderError {
  constructor(message: string) {
    super('DrillNotAllowedError', message);
  }
}

/** IAM or another service refused one of the responder's calls. Not retried: permissions will not change. */
export class AccessDeniedError extends ResponderError {
  constructor(message: string) {
    super('AccessDeniedError', message);
  }
}

/** Throttling or a service fault outlasted the SDK's own retries. The workflow retries the step. */
export class TransientAwsError extends ResponderError {
  constructor(message: string) {
    super('TransientAwsError', message);
  }
}

/** The function's environment is wrong: a deployment fault, never retried. */
export class ConfigurationError extends ResponderError {
  constructor(message: string) {
    super('ConfigurationError', message);
  }
}

/** Error names the workflow retries. */
export const RETRYABLE_ERRORS = ['TransientAwsError'] as const;

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceFailure',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
]);

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'NotAuthorized']);

function errorName(error: unknown): string {
  if (error && typeof error === 'object' && 'name' in error) return String((error as { name: unknown }).name);
  return '';
}

function httpStatus(error: unknown): number | undefined {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}

export function isAccessDenied(error: unknown): boolean {
  return DENIED.has(errorName(error));
}

export function isTransient(error: unknown): boolean {
  const status = httpStatus(error);
  return THROTTLING.has(errorName(error)) || (status !== undefined && status >= 500) || isNetworkError(error);
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'ECONNREFUSED' || code === 'EPIPE';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Turns an SDK failure of `call` into the named error the workflow acts on.
 * Unknown errors pass through unchanged so nothing is mislabelled as safe to retry.
 */
export function classifyAwsError(call: string, error: unknown, context = ''): unknown {
  const suffix = context ? ` ${context}` : '';
  if (isAccessDenied(error)) {
    return new AccessDeniedError(
      `${call} was refused (${describeError(error)}).${suffix} Grant the responder's role this action, or check for an SCP or permission boundary that denies it.`,
    );
  }
  if (isTransient(error)) {
    return new TransientAwsError(`${call} failed after retries (${describeError(error)}).${suffix}`);
  }
  return error;
}
