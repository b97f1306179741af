import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** One Logger, Tracer and Metrics per process, shared by every module (Powertools' own pattern). */
export const logger = new Logger({ serviceName: 'exposed-key-responder' });
export const tracer = new Tracer({ serviceName: 'exposed-key-responder' });
export const metrics = new Metrics({
  namespace: 'ExposedKeyResponder',
  serviceName: 'exposed-key-responder',
});
