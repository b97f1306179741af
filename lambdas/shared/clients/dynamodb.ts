import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tracer } from '../powertools';
import { retryConfig } from './retry';

export const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({ ...retryConfig }));
