import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { SNSClient } from '@aws-sdk/client-sns';
import { tracer } from './powertools';

/**
 * SDK clients, built once per container and reused across invocations. Adaptive retry with
 * a few more attempts than the default: IAM throttles at low rates, and a containment that
 * gives up on the first throttle fails open.
 */
const retry = { maxAttempts: 5, retryMode: 'adaptive' } as const;

export const iam = tracer.captureAWSv3Client(new IAMClient({ ...retry }));
export const sns = tracer.captureAWSv3Client(new SNSClient({ ...retry }));
export const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({ ...retry }));
