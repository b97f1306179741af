/**
 * Smoke test of the local AWS emulator with the AWS SDK for JavaScript v3:
 *   bash scripts/emulator/install-moto.sh && npx tsx scripts/emulator/smoke.ts
 */
import assert from 'node:assert/strict';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startMoto } from './moto';

async function main(): Promise<void> {
  const t0 = performance.now();
  const moto = await startMoto();
  console.log(`moto ready at ${moto.endpoint} (pid ${moto.pid}) in ${Math.round(performance.now() - t0)} ms`);

  // The SDK reads these when a client is constructed.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
  });

  try {
    const sts = new STSClient({});
    const me = await sts.send(new GetCallerIdentityCommand({}));
    console.log(`STS GetCallerIdentity: account ${me.Account}`);

    // IAM
    const iam = new IAMClient({});
    const UserName = 'smoke-user';
    await iam.send(new CreateUserCommand({ UserName }));
    const k1 = (await iam.send(new CreateAccessKeyCommand({ UserName }))).AccessKey;
    const k2 = (await iam.send(new CreateAccessKeyCommand({ UserName }))).AccessKey;
    assert.ok(k1?.AccessKeyId && k2?.AccessKeyId);
    await iam.send(new UpdateAccessKeyCommand({ UserName, AccessKeyId: k1.AccessKeyId, Status: 'Inactive' }));
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName }))).AccessKeyMetadata ?? [];
    assert.equal(keys.find((k) => k.AccessKeyId === k1.AccessKeyId)?.Status, 'Inactive');
    assert.equal(keys.find((k) => k.AccessKeyId === k2.AccessKeyId)?.Status, 'Active');
    const lastUsed = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k1.AccessKeyId }));
    console.log(`IAM GetAccessKeyLastUsed(${k1.AccessKeyId}): UserName=${lastUsed.UserName}`);
    assert.equal(lastUsed.UserName, UserName);
    await iam.send(
      new PutUserPolicyCommand({
        UserName,
        PolicyName: 'deny-all',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
        }),
      }),
    );
    console.log('IAM CreateUser, 2x CreateAccessKey, UpdateAccessKey Inactive, PutUserPolicy: ok');

    // SNS -> SQS
    const sns = new SNSClient({});
    const sqs = new SQSClient({});
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'smoke-topic' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'smoke-queue' }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: attrs.Attributes?.QueueArn }));
    await sns.send(
      new PublishCommand({ TopicArn, Subject: 'smoke', Message: JSON.stringify({ hello: 'world' }) }),
    );
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    assert.equal(received.Messages?.length, 1);
    const envelope = JSON.parse(received.Messages?.[0]?.Body ?? '{}');
    assert.equal(envelope.Type, 'Notification');
    assert.deepEqual(JSON.parse(envelope.Message), { hello: 'world' });
    console.log(`SNS Publish -> SQS ReceiveMessage: ok (Subject=${envelope.Subject})`);

    // DynamoDB
    const ddb = new DynamoDBClient({});
    await ddb.send(
      new CreateTableCommand({
        TableName: 'smoke-table',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const put = new PutItemCommand({
      TableName: 'smoke-table',
      Item: { pk: { S: 'key#1' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    await ddb.send(put);
    await assert.rejects(ddb.send(put), ConditionalCheckFailedException);
    console.log(
      'DynamoDB CreateTable, PutItem with ConditionExpression (and its ConditionalCheckFailed): ok',
    );

    // EC2
    const ec2 = new EC2Client({});
    const regions = (await ec2.send(new DescribeRegionsCommand({}))).Regions ?? [];
    assert.ok(regions.some((r) => r.RegionName === 'us-east-1'));
    console.log(`EC2 DescribeRegions: ${regions.length} regions`);

    await moto.reset();
  } finally {
    const t1 = performance.now();
    await moto.stop();
    console.log(`moto stopped in ${Math.round(performance.now() - t1)} ms`);
  }
  console.log('smoke: all ok');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
