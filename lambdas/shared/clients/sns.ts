import { SNSClient } from '@aws-sdk/client-sns';
import { tracer } from '../powertools';
import { retryConfig } from './retry';

export const sns = tracer.captureAWSv3Client(new SNSClient({ ...retryConfig }));
