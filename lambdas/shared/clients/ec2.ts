import { EC2Client } from '@aws-sdk/client-ec2';
import { tracer } from '../powertools';
import { retryConfig } from './retry';

export const ec2 = tracer.captureAWSv3Client(new EC2Client({ ...retryConfig }));
