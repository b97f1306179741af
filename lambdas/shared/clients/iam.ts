import { IAMClient } from '@aws-sdk/client-iam';
import { tracer } from '../powertools';
import { retryConfig } from './retry';

/** Built once per container and reused; one module per service so a handler loads only the SDK clients it uses. */
export const iam = tracer.captureAWSv3Client(new IAMClient({ ...retryConfig }));
