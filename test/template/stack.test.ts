import { Match } from 'aws-cdk-lib/assertions';
import {
  DRILL_SOURCE,
  LEAK_EVENT_CODES,
  QUARANTINE_POLICY_ARN_PREFIX,
} from '../../lambdas/shared/event-codes';
import { ConfigError } from '../../lib/config';
import {
  ACCOUNT,
  allStates,
  asList,
  flatten,
  identityStatements,
  isIamWrite,
  type PolicyStatementJson,
  stateMachineDefinition,
  synthApp,
  templatesFor,
} from './app-under-test';

type Resources = Record<string, { Properties?: Record<string, unknown> }>;
interface RuleTarget {
  Arn: unknown;
  DeadLetterConfig?: { Arn: unknown };
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
}

const rulesOf = (resources: Resources) =>
  Object.values(resources).map((rule) => ({
    pattern: rule.Properties?.EventPattern as { source: string[]; detail?: Record<string, unknown> },
    targets: rule.Properties?.Targets as RuleTarget[],
  }));

/** The policy document statements attached to the role of one of the responder's functions. */
function functionPolicyStatements(
  context: Record<string, unknown>,
  functionId: string,
): PolicyStatementJson[] {
  const { primary } = templatesFor(context);
  const roleId = Object.keys(primary.findResources('AWS::IAM::Role')).find((id) =>
    id.startsWith(`${functionId}Role`),
  );
  if (!roleId) throw new Error(`no role for ${functionId}`);
  return Object.values(primary.findResources('AWS::IAM::Policy'))
    .filter((p) => asList(p.Properties.Roles as unknown[]).some((r) => flatten(r) === `<${roleId}>`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as PolicyStatementJson[]);
}

/** The logical IDs of the functions of the workflow's steps (CDK suffixes a hash). */
const STEP_FUNCTION_IDS = ['Intake', 'Contain', 'Alert', 'NotifyFailure'].map((id) =>
  expect.stringMatching(new RegExp(`^${id}[0-9A-F]{8}$`)),
);

/** arn:<partition>:iam::<account>:user/* with the account as a literal or the AWS::AccountId pseudo parameter. */
const USERS_ARN = /^arn:<AWS::Partition>:iam::(\d{12}|<AWS::AccountId>):user\/\*$/;

const iamWritesOf = (statements: PolicyStatementJson[]) =>
  statements.filter((s) => s.Effect === 'Allow').flatMap((s) => asList(s.Action).filter(isIamWrite));

describe('triggers', () => {
  it('routes every leaked-credential Health code to the workflow', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act
    const health = rulesOf(primary.findResources('AWS::Events::Rule')).filter((r) =>
      r.pattern.source.includes('aws.health'),
    );

    // Assert
    expect(health).toHaveLength(1);
    const codes = (health[0].pattern.detail as { eventTypeCode: string[] }).eventTypeCode;
    expect([...codes].sort()).toEqual([...LEAK_EVENT_CODES].sort());
    expect(health[0].pattern).toMatchObject({ 'detail-type': ['AWS Health Event'] });
  });

  it("matches AWS's own quarantine: AttachUserPolicy of the policy prefix from AWS Internal", () => {
    // Arrange
    const { primary } = templatesFor();

    // Act / Assert
    primary.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.iam'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['iam.amazonaws.com'],
          eventName: ['AttachUserPolicy'],
          sourceIPAddress: ['AWS Internal'],
          requestParameters: { policyArn: [{ prefix: QUARANTINE_POLICY_ARN_PREFIX }] },
        },
      },
    });
    expect(QUARANTINE_POLICY_ARN_PREFIX).toBe('arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine');
  });

  it('has no drill rule unless drills are enabled', () => {
    // Arrange
    const drillRules = (context: Record<string, unknown>) =>
      rulesOf(templatesFor(context).primary.findResources('AWS::Events::Rule')).filter((r) =>
        r.pattern.source.includes(DRILL_SOURCE),
      );

    // Act / Assert
    expect(drillRules({})).toHaveLength(0);
    expect(drillRules({ drills: 'false' })).toHaveLength(0);
    expect(drillRules({ drills: 'true' })).toHaveLength(1);
    templatesFor({ drills: 'true' }).primary.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DRILLS_ENABLED: 'true' }) },
    });
  });

  it('gives every rule target of the primary stack a dead-letter queue and a retry policy', () => {
    // Arrange
    const { primary } = templatesFor({ drills: 'true' });

    // Act
    const targets = rulesOf(primary.findResources('AWS::Events::Rule')).flatMap((r) => r.targets);

    // Assert
    expect(targets).toHaveLength(3);
    for (const target of targets) {
      expect(target.DeadLetterConfig?.Arn).toBeDefined();
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 21600 });
      expect(flatten(target.Arn)).toMatch(/^<WorkflowRespondToExposedKey/);
    }
  });

  it('alarms on the depth of the dead-letter queue', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act / Assert
    primary.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^NotificationsAlerts') }],
    });
  });
});

describe('backup region', () => {
  it('is a stack in us-west-2 by default, forwarding the Health events to the primary region default bus', () => {
    // Arrange
    const { built, backup } = templatesFor();

    // Act
    const rules = rulesOf(backup?.findResources('AWS::Events::Rule') ?? {});

    // Assert
    expect(built.backup?.region).toBe('us-west-2');
    expect(built.backup?.account).toBe(ACCOUNT);
    expect(rules).toHaveLength(1);
    expect(rules[0].pattern.source).toEqual(['aws.health']);
    expect([...(rules[0].pattern.detail as { eventTypeCode: string[] }).eventTypeCode].sort()).toEqual(
      [...LEAK_EVENT_CODES].sort(),
    );
    expect(rules[0].targets).toHaveLength(1);
    expect(flatten(rules[0].targets[0].Arn)).toBe(
      `arn:<AWS::Partition>:events:us-east-1:${ACCOUNT}:event-bus/default`,
    );
    // CDK offers no retry policy on event-bus targets (EventBridge applies its default); the DLQ is there.
    expect(rules[0].targets[0].DeadLetterConfig?.Arn).toBeDefined();
  });

  it('follows backupRegion', () => {
    // Act
    const { built } = templatesFor({ backupRegion: 'eu-central-1' });

    // Assert
    expect(built.backup?.region).toBe('eu-central-1');
  });

  // BUG (lib/config.ts): zod 4's .default() replaces the undefined that 'none' is transformed into.
  it("is absent with backupRegion 'none'", () => {
    // Act
    const { built, backup } = templatesFor({ backupRegion: 'none' });

    // Assert
    expect(built.backup?.region).toBeUndefined();
    expect(backup).toBeUndefined();
  });

  // BUG (lib/backup-region-stack.ts): the backup stack's dead-letter queue is acknowledged with "an alarm
  // watches its depth", but no alarm exists in that stack: events that fail to forward wait there unseen.
  it('alarms on the depth of its dead-letter queue', () => {
    // Arrange
    const { backup } = templatesFor();

    // Act / Assert
    backup?.resourceCountIs('AWS::SQS::Queue', 1);
    backup?.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
    });
  });
});

describe('workflow', () => {
  it('is a STANDARD state machine with X-Ray tracing, full logging and a timeout', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act / Assert
    primary.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
    const { definition } = stateMachineDefinition(primary);
    expect(definition.TimeoutSeconds).toBe(12 * 3600);
  });

  it('has readable state names and no JSONata', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act
    const { definition, text } = stateMachineDefinition(primary);
    const names = allStates(definition).map(([name]) => name);

    // Assert
    expect(names).toEqual(
      expect.arrayContaining([
        'Read the event',
        'Contain each exposed key',
        'Contain the key',
        'Send the containment alert',
        'Notify failure',
      ]),
    );
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(text).not.toMatch(/JSONata/i);
    expect(text).not.toContain('{%');
    for (const [, state] of allStates(definition)) expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });

  it('retries transient errors and catches every failure into "Notify failure"', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act
    const states = Object.fromEntries(allStates(stateMachineDefinition(primary).definition));

    // Assert
    for (const name of ['Read the event', 'Send the containment alert', 'Contain the key']) {
      expect(states[name].Retry?.[0].ErrorEquals).toContain('TransientAwsError');
    }
    for (const name of ['Read the event', 'Contain each exposed key', 'Send the containment alert']) {
      expect(states[name].Catch).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Notify failure' }),
      ]);
    }
    expect(states['Contain the key'].Catch?.[0].Next).toBe('Record that the key was not contained');
    expect(states['Notify failure'].Catch?.[0].ErrorEquals).toEqual(['States.ALL']);
  });

  it('sends the report after the investigation, and after any failed investigation step, once per incident', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act
    const states = Object.fromEntries(allStates(stateMachineDefinition(primary).definition));

    // Assert
    expect(states['Attribute the inventory'].Next).toBe('Send the report');
    for (const name of ['Plan the investigation', 'Investigate', 'Attribute the inventory']) {
      expect(states[name].Catch).toEqual([
        expect.objectContaining({
          ErrorEquals: ['States.ALL'],
          Next: 'Send the report',
          ResultPath: '$.error',
        }),
      ]);
    }
    // Without the analysis the inventory can still be attributed; the report says the analysis is missing.
    expect(states['Analyze the activity'].Catch).toEqual([
      expect.objectContaining({ Next: 'Attribute the inventory', ResultPath: '$.analysis' }),
    ]);
    expect(states['Send the report'].Retry?.flatMap((r) => r.ErrorEquals)).toEqual(
      expect.arrayContaining(['TransientAwsError', 'IdempotencyAlreadyInProgressError']),
    );
    // A concurrent execution's report must be waited out, not turned into a false "Response failed".
    const wait = states['Send the report'].Retry?.find((r) =>
      r.ErrorEquals.includes('IdempotencyAlreadyInProgressError'),
    );
    const tries = Array.from({ length: wait?.MaxAttempts ?? 0 }, (_, i) => i);
    const waitedSeconds = tries.reduce(
      (sum, i) => sum + (wait?.IntervalSeconds ?? 0) * (wait?.BackoffRate ?? 1) ** i,
      0,
    );
    expect(waitedSeconds).toBeGreaterThan(300);
    expect(states['Send the report'].Catch?.[0].Next).toBe('Notify failure');
    expect(states['Send the report'].Next).toBe('Was every key handled?');
  });

  it('alarms on failed, timed-out and aborted executions', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act / Assert
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      primary.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Dimensions: [
          { Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('^WorkflowRespondToExposedKey') } },
        ],
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^NotificationsAlerts') }],
      });
    }
  });
});

describe('functions, topic and table', () => {
  it('runs every Lambda on nodejs24.x, arm64, with active tracing and its own log group with retention', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act
    const resources = primary.findResources('AWS::Lambda::Function');
    const functions = Object.values(resources);
    const logGroups = primary.findResources('AWS::Logs::LogGroup');

    // Assert
    expect(Object.keys(resources)).toEqual(expect.arrayContaining(STEP_FUNCTION_IDS));
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
      const logGroup = logGroups[fn.Properties.LoggingConfig.LogGroup.Ref];
      expect(logGroup?.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });

  it('encrypts the alert topic with its own KMS key and allows TLS only', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act / Assert
    primary.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsTopicKey'), 'Arn'] },
    });
    primary.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('subscribes the configured e-mail addresses', () => {
    // Act
    const { primary } = templatesFor({ notificationEmails: 'a@x.com,b@y.org' });

    // Assert
    primary.resourceCountIs('AWS::SNS::Subscription', 2);
    primary.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'b@y.org' });
  });

  it('keeps de-duplication records in an on-demand table with TTL', () => {
    // Arrange
    const { primary } = templatesFor();

    // Act / Assert
    primary.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('hands the configuration to the Contain function', () => {
    // Arrange
    const { primary } = templatesFor({ mode: 'dry-run', revokeSessions: 'false', exemptTag: 'keep-keys' });

    // Act / Assert
    primary.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          RESPONDER_ACCOUNT_ID: ACCOUNT,
          MODE: 'dry-run',
          REVOKE_SESSIONS: 'false',
          LOGIN_PROFILE: 'keep',
          EXEMPT_TAG: 'keep-keys',
          IDEMPOTENCY_TABLE: Match.anyValue(),
        }),
      },
    });
  });
});

describe('least privilege', () => {
  it('limits the IAM writes of the Contain role to user/* and never to roles or iam:*', () => {
    // Arrange
    const statements = functionPolicyStatements({}, 'Contain');

    // Act
    const writes = statements.filter((s) => s.Effect === 'Allow' && asList(s.Action).some(isIamWrite));

    // Assert
    expect(iamWritesOf(statements).sort()).toEqual(['iam:PutUserPolicy', 'iam:UpdateAccessKey']);
    for (const statement of writes) {
      const resources = asList(statement.Resource).map(flatten);
      expect(resources).toEqual(['arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*']);
      expect(asList(statement.Action)).not.toContain('iam:*');
    }
    expect(JSON.stringify(statements)).not.toContain(':role/');
  });

  it('drops PutUserPolicy with revokeSessions=false', () => {
    // Act
    const writes = iamWritesOf(functionPolicyStatements({ revokeSessions: 'false' }, 'Contain'));

    // Assert
    expect(writes).toEqual(['iam:UpdateAccessKey']);
  });

  it('adds DeleteLoginProfile with loginProfile=delete', () => {
    // Act
    const writes = iamWritesOf(functionPolicyStatements({ loginProfile: 'delete' }, 'Contain'));

    // Assert
    expect(writes.sort()).toEqual(['iam:DeleteLoginProfile', 'iam:PutUserPolicy', 'iam:UpdateAccessKey']);
  });

  it('lets the Report role read and write only incident evidence, publish, and keep its de-duplication record', () => {
    // Act
    const statements = functionPolicyStatements({}, 'Report');
    const actions = statements.flatMap((st) => asList(st.Action)).sort();

    // Assert
    expect(actions.filter((a) => !a.startsWith('xray:') && !a.startsWith('logs:'))).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'kms:Decrypt',
      'kms:GenerateDataKey*',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'sns:Publish',
    ]);
    const reads = statements.find((st) => asList(st.Action).includes('s3:GetObject'));
    expect(asList(reads?.Resource).map(flatten)).toEqual([expect.stringMatching(/\/incidents\/\*$/)]);
    const writes = statements.find((st) => asList(st.Action).includes('s3:PutObject'));
    expect(asList(writes?.Resource).map(flatten)).toEqual([
      expect.stringMatching(/\/incidents\/\*\/report\/\*$/),
      expect.stringMatching(/\/incidents\/\*\/manifest\.json$/),
    ]);
  });

  it('gives the Intake role only ListAccessKeys on users', () => {
    // Act
    const iamActions = functionPolicyStatements({}, 'Intake').flatMap((s) =>
      asList(s.Action).filter((a) => a.startsWith('iam:')),
    );

    // Assert
    expect(iamActions).toEqual(['iam:ListAccessKeys']);
  });

  it.each([{}, { drills: 'true', loginProfile: 'delete' }])(
    'grants no IAM write on a role, nor any wildcard IAM write, in any policy (context %j)',
    (context) => {
      // Arrange
      const { primary, backup } = templatesFor(context);

      // Act
      const statements = [primary, ...(backup ? [backup] : [])].flatMap(identityStatements);
      const writes = statements.filter(
        ({ statement }) =>
          statement.Effect === 'Allow' && (asList(statement.Action).some(isIamWrite) || statement.NotAction),
      );

      // Assert
      expect(statements.length).toBeGreaterThan(10);
      for (const { source, statement } of writes) {
        const resources = asList(statement.Resource).map(flatten);
        const where = `${source}: ${JSON.stringify(statement)}`;
        expect({ where, notAction: statement.NotAction }).toEqual({ where, notAction: undefined });
        expect({
          where,
          actions: asList(statement.Action).filter((a) => a === '*' || a === 'iam:*'),
        }).toEqual({
          where,
          actions: [],
        });
        for (const resource of resources) {
          expect({ where, resource }).toEqual({ where, resource: expect.stringMatching(USERS_ARN) });
        }
      }
    },
  );
});

describe('Slack through AWS Chatbot', () => {
  const slack = { workspaceId: 'T01ABCDEFGH', channelId: 'C01ABCDEFGH' };

  it('subscribes the configured channel to the alert topic, able to post and to do nothing else', () => {
    // Arrange
    const { primary } = templatesFor({ slack: JSON.stringify(slack) });

    // Act
    const configs = primary.findResources('AWS::Chatbot::SlackChannelConfiguration');

    // Assert
    const [config] = Object.values(configs).map((r) => r.Properties);
    expect(Object.keys(configs)).toHaveLength(1);
    expect(config.SlackWorkspaceId).toBe(slack.workspaceId);
    expect(config.SlackChannelId).toBe(slack.channelId);
    expect(config.SnsTopicArns.map(flatten)).toEqual([expect.stringMatching(/^<NotificationsAlerts/)]);
    expect(config.GuardrailPolicies.map(flatten)).toEqual([
      'arn:<AWS::Partition>:iam::aws:policy/AWSDenyAll',
    ]);
    expect(config.UserRoleRequired).toBe(false);
  });

  it('also takes the backup region topic, whose alarm says when an event could not be forwarded', () => {
    // Arrange
    const { backup } = templatesFor({ slack: JSON.stringify(slack) });

    // Act
    const configs = Object.values(backup?.findResources('AWS::Chatbot::SlackChannelConfiguration') ?? {});

    // Assert
    expect(configs.map((c) => c.Properties.SlackChannelId)).toEqual([slack.channelId]);
    expect(configs[0].Properties.ConfigurationName).toMatch(/^ExposedKeyResponderBackup-/);
  });

  it('is absent without the slack context', () => {
    expect(templatesFor().primary.findResources('AWS::Chatbot::SlackChannelConfiguration')).toEqual({});
  });
});

describe('configuration', () => {
  it('rejects a bad context value with a ConfigError', () => {
    // Act
    const build = () => synthApp({ mode: 'bogus' });

    // Assert
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/context 'mode' = "bogus".*accepted: contain \| notify-only \| dry-run/);
  });
});
