import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { dynamodb } from './clients/dynamodb';
import { env, required } from './env';

export interface OnceOptions {
  /** JMESPath over the input that names "the same work" (an incident and its keys, a key's claim). */
  keyJmesPath: string;
  /** Keeps the records of different steps apart in the shared table. @default the function's name */
  keyPrefix?: string;
}

/**
 * `fn` run at most once per key within the de-duplication window (Powertools idempotency on the stack's
 * table): a retried step or a re-delivered event gets the stored result; a second call while the first is
 * still running fails with IdempotencyAlreadyInProgressError, which the workflow waits on and retries.
 * Built on first call: it needs the parsed environment, which must not throw at import time.
 */
export function once<I, O>(
  fn: (input: I) => Promise<O>,
  options: OnceOptions,
): (input: I, context?: Context) => Promise<O> {
  let built: { run: (input: I) => Promise<O>; config: IdempotencyConfig } | undefined;
  return (input, context) => {
    if (!built) {
      const config = new IdempotencyConfig({
        eventKeyJmesPath: options.keyJmesPath,
        expiresAfterSeconds: env().DEDUPE_WINDOW_SECONDS,
      });
      const run = makeIdempotent(fn, {
        persistenceStore: new DynamoDBPersistenceLayer({
          tableName: required('IDEMPOTENCY_TABLE'),
          awsSdkV3Client: dynamodb,
        }),
        config,
        ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
      });
      built = { run, config };
    }
    if (context) built.config.registerLambdaContext(context);
    return built.run(input);
  };
}
