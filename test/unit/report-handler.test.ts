import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { ReportStepInput } from '../../lambdas/report/handler';
import { resetEnvCache } from '../../lambdas/shared/env';
import { aContainedResult, anIntakeResult } from '../fixtures/incidents';

const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);
const dynamoMock = mockClient(DynamoDBClient);
const ENV = {
  EVIDENCE_BUCKET: 'evidence',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alerts',
  IDEMPOTENCY_TABLE: 'idempotency',
  REPORT_LINK_SECONDS: '604800',
  AWS_REGION: 'us-east-1',
  // A Lambda role's session: a token, and no expiry the SDK can read.
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEEXAMPLE00',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_SESSION_TOKEN: 'session-token',
};
const saved: Record<string, string | undefined> = {};

type Handler = (
  input: ReportStepInput,
  context: Context,
) => Promise<{ sent: boolean; reportKey?: string; missing?: string[] }>;
let handle: Handler;
/** What Lambda passes; the idempotency layer reads the remaining time from it. */
const context = { getRemainingTimeInMillis: () => 300_000, functionName: 'Report' } as unknown as Context;
const handler = (input: ReportStepInput) => handle(input, context);

beforeAll(() => {
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  resetEnvCache();
  handle = (require('../../lambdas/report/handler') as { handler: Handler }).handler;
});

afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetEnvCache();
});

beforeEach(() => {
  s3Mock.reset();
  snsMock.reset();
  dynamoMock.reset();
  dynamoMock.resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('no such key'), { name: 'NoSuchKey' }));
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });
});

/** A response whose Plan step failed: each test gets its own incident, so idempotency records do not meet. */
function failedPlanState(incidentId: string): ReportStepInput {
  const intake = anIntakeResult();
  intake.incident = { ...intake.incident, incidentId };
  return {
    state: {
      intake,
      containment: [aContainedResult({ incidentId })],
      alert: { sent: true, allHandled: true },
      error: { Error: 'AccessDeniedError', Cause: '{"errorMessage":"ec2:DescribeRegions denied"}' },
    },
  };
}

function published(): { subject: string; variants: Record<string, string>; kind?: string } {
  const input = snsMock.commandCalls(PublishCommand)[0].args[0].input;
  return {
    subject: input.Subject ?? '',
    variants: JSON.parse(input.Message ?? '{}'),
    kind: input.MessageAttributes?.kind?.StringValue,
  };
}

describe('the Report step handler', () => {
  it('stores the report and its manifest, then publishes one message of kind report', async () => {
    // Arrange
    s3Mock.on(PutObjectCommand).resolves({});

    // Act
    const out = await handler(failedPlanState('20261206-aaaaaaaaaaaa'));

    // Assert
    expect(out.sent).toBe(true);
    const keys = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual([
      'incidents/20261206-aaaaaaaaaaaa/report/report.html',
      'incidents/20261206-aaaaaaaaaaaa/report/email.txt',
      'incidents/20261206-aaaaaaaaaaaa/report/chatbot.json',
      'incidents/20261206-aaaaaaaaaaaa/report/support-reply.txt',
      'incidents/20261206-aaaaaaaaaaaa/manifest.json',
    ]);
    const message = published();
    expect(message.kind).toBe('report');
    expect(Object.keys(message.variants).sort()).toEqual(['default', 'email', 'https', 'sqs']);
    expect(message.variants.email).toMatch(/^INCOMPLETE: Investigation plan/m);
    expect(message.variants.email).toContain('AccessDeniedError: ec2:DescribeRegions denied');
    // Signed with a session whose end the SDK cannot read: the e-mail must not promise seven days.
    expect(message.variants.email).toMatch(
      /at the latest, and stops sooner when the responder's temporary session ends/,
    );
    expect(message.variants.https).not.toContain('X-Amz-Signature');
  });

  it('still sends the report when it cannot be stored, saying so, without links to files that do not exist', async () => {
    // Arrange
    s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));

    // Act
    const out = await handler(failedPlanState('20261206-bbbbbbbbbbbb'));

    // Assert
    expect(out.sent).toBe(true);
    expect(out.reportKey).toBeUndefined();
    expect(out.missing).toContain('Stored report (HTML file, evidence manifest)');
    const { variants } = published();
    expect(variants.email).toContain('Stored report (HTML file, evidence manifest)');
    expect(variants.email).not.toContain('s3.console.aws.amazon.com');
    expect(variants.email).not.toContain('X-Amz-Signature');
  });

  it('sends nothing for keys an earlier incident handled, which reports them', async () => {
    // Arrange
    const input = failedPlanState('20261206-cccccccccccc');
    input.state.alert = { sent: false };

    // Act
    const out = await handler(input);

    // Assert
    expect(out.sent).toBe(false);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
