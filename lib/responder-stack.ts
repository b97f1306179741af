import {
  Aws,
  type CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { alarmOnAny } from './alarms';
import type { ResponderConfig } from './config';
import { EvidenceBucket } from './evidence-bucket';
import { Notifications } from './notifications';
import { ResponderFunction } from './responder-function';
import { Triggers } from './triggers';
import { Workflow } from './workflow';

/** Read-only calls of the inventory readers (lambdas/inventory/readers), nothing more. */
const INVENTORY_READS = [
  'ec2:DescribeInstances',
  'ec2:DescribeSpotInstanceRequests',
  'ec2:DescribeKeyPairs',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeImages',
  'ec2:DescribeImageAttribute',
  'ec2:DescribeSnapshots',
  'ec2:DescribeSnapshotAttribute',
  'ec2:DescribeVolumes',
  'iam:GetAccountAuthorizationDetails',
  'iam:ListAccessKeys',
  'iam:GetLoginProfile',
  'iam:ListOpenIDConnectProviders',
  'iam:GetOpenIDConnectProvider',
  'iam:ListSAMLProviders',
  'ses:ListIdentities',
  'ses:GetIdentityVerificationAttributes',
  'ses:GetSendQuota',
  'ses:GetAccountSendingEnabled',
  'lightsail:GetInstances',
  'cloudtrail:DescribeTrails',
  'cloudtrail:GetTrailStatus',
  'cloudtrail:GetEventSelectors',
  'lambda:ListFunctions',
  'lambda:ListFunctionUrlConfigs',
  'lambda:GetPolicy',
  'sagemaker:ListNotebookInstances',
  'sagemaker:ListTrainingJobs',
  'sagemaker:DescribeTrainingJob',
  'sagemaker:ListEndpoints',
  'sagemaker:DescribeEndpoint',
  'sagemaker:DescribeEndpointConfig',
  'ecs:ListClusters',
  'ecs:DescribeClusters',
  'ecs:ListServices',
  'ecs:DescribeServices',
  'ecs:ListTasks',
  'ecs:DescribeTasks',
  'codebuild:ListProjects',
  'codebuild:BatchGetProjects',
  'guardduty:ListDetectors',
  'guardduty:GetDetector',
];

/** What Powertools idempotency does with its record (lambdas/shared/idempotency.ts). */
const IDEMPOTENCY_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

export interface ResponderStackProps extends StackProps {
  readonly config: ResponderConfig;
}

/** The primary stack: triggers, the workflow, its Lambdas, the alert topic and the alarms. */
export class ResponderStack extends Stack {
  public readonly workflow: Workflow;
  public readonly functions: ResponderFunction[];
  public readonly notifications: Notifications;
  public readonly idempotencyTable: dynamodb.Table;
  public readonly triggers: Triggers;
  public readonly evidence: EvidenceBucket;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.notifications = new Notifications(this, 'Notifications', {
      emails: config.notificationEmails,
      slack: config.slack,
    });
    const topic = this.notifications.topic;

    // De-duplication records: one per contained key and per alert, gone after the window.
    this.idempotencyTable = new dynamodb.Table(this, 'Idempotency', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Only short-lived de-duplication state: losing it costs at most a repeated alert.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const table = this.idempotencyTable;

    const stateMachineLogs = Workflow.logGroup(this, 'WorkflowLogs');
    const alertEnv = { ALERT_TOPIC_ARN: topic.topicArn };
    const tableEnv = { IDEMPOTENCY_TABLE: table.tableName };

    const intake = new ResponderFunction(this, 'Intake', {
      step: 'intake',
      description: 'Validates a leaked-key event into an incident',
      environment: { DRILLS_ENABLED: String(config.drills) },
    });
    const contain = new ResponderFunction(this, 'Contain', {
      step: 'contain',
      description: 'Deactivates one exposed access key and revokes its sessions',
      environment: {
        ...tableEnv,
        RESPONDER_ACCOUNT_ID: this.account,
        MODE: config.mode,
        REVOKE_SESSIONS: String(config.revokeSessions),
        LOGIN_PROFILE: config.loginProfile,
        CANARY_TAG: config.canaryTag,
        ...(config.exemptTag ? { EXEMPT_TAG: config.exemptTag } : {}),
      },
    });
    const alert = new ResponderFunction(this, 'Alert', {
      step: 'alert',
      description: 'Sends the containment alert',
      environment: { ...alertEnv, ...tableEnv },
    });
    const notifyFailure = new ResponderFunction(this, 'NotifyFailure', {
      step: 'notify-failure',
      description: 'Sends the failure alert: what was and was not done',
      environment: { ...alertEnv, STATE_MACHINE_LOG_GROUP: stateMachineLogs.logGroupName },
    });
    const confirm = new ResponderFunction(this, 'Confirm', {
      step: 'confirm',
      description: 'Reads the containment back once IAM has settled and re-applies what was undone',
      environment: { ...alertEnv, ...tableEnv, REVOKE_SESSIONS: String(config.revokeSessions) },
    });
    this.evidence = new EvidenceBucket(this, 'Evidence', { retentionDays: config.evidenceRetentionDays });
    const evidenceEnv = { EVIDENCE_BUCKET: this.evidence.bucket.bucketName };
    const planInvestigation = new ResponderFunction(this, 'PlanInvestigation', {
      step: 'plan',
      awsSdk: 'runtime',
      description: 'Chooses the keys, regions and time window to investigate',
      environment: {
        REGIONS: config.regions === 'all-enabled' ? 'all-enabled' : config.regions.join(','),
        LOOKBACK_DAYS: String(config.lookbackDays),
      },
    });
    const collectActivity = new ResponderFunction(this, 'CollectActivity', {
      step: 'collect',
      awsSdk: 'runtime',
      description: "Reads a batch of the key's CloudTrail pages in one region into the evidence bucket",
      environment: evidenceEnv,
      // Long batches mean fewer workflow transitions; the collector stops 90 s before the end.
      timeout: Duration.minutes(15),
      memorySize: 512,
    });
    const followPivots = new ResponderFunction(this, 'FollowPivots', {
      step: 'pivots',
      awsSdk: 'runtime',
      description: 'Records a round of collection and queues the keys the attacker minted',
      environment: evidenceEnv,
    });
    const analyzeActivity = new ResponderFunction(this, 'AnalyzeActivity', {
      step: 'analyze',
      awsSdk: 'runtime',
      description: 'Classifies what the leaked key and its pivots did, from the collected evidence',
      environment: evidenceEnv,
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    const inventoryRegion = new ResponderFunction(this, 'InventoryRegion', {
      step: 'inventory',
      awsSdk: 'runtime',
      description: 'Lists what exists in one region: instances, users, keys, functions, guard rails...',
      environment: { ...evidenceEnv, RESPONDER_ACCOUNT_ID: this.account },
      timeout: Duration.minutes(10),
      memorySize: 512,
    });
    const attributeInventory = new ResponderFunction(this, 'AttributeInventory', {
      step: 'attribute',
      awsSdk: 'runtime',
      description: 'Joins the inventory with the key activity: what the attacker left, its cost and clean-up',
      environment: evidenceEnv,
      timeout: Duration.minutes(10),
      memorySize: 1024,
    });
    const report = new ResponderFunction(this, 'Report', {
      step: 'report',
      // The presigner is bundled with the SDK it signs for: one version, whatever the runtime ships.
      awsSdk: 'bundled',
      description: 'Sends the full report by email and chat and stores it with the evidence bundle',
      environment: {
        ...evidenceEnv,
        ...alertEnv,
        ...tableEnv,
        REPORT_LINK_SECONDS: String(config.reportLinkDays * 24 * 3600),
      },
      timeout: Duration.minutes(5),
      memorySize: 1024,
    });
    const revokeRoleSessions = config.revokeAssumedRoleSessions
      ? new ResponderFunction(this, 'RevokeRoleSessions', {
          step: 'revoke-roles',
          awsSdk: 'runtime',
          description: 'Denies the older sessions of roles the attacker assumed',
          environment: { RESPONDER_ROLE_PREFIX: `${this.stackName}-`, RESPONDER_ACCOUNT_ID: this.account },
        })
      : undefined;
    this.functions = [
      intake,
      contain,
      alert,
      notifyFailure,
      confirm,
      planInvestigation,
      collectActivity,
      followPivots,
      analyzeActivity,
      inventoryRegion,
      attributeInventory,
      report,
    ];
    if (revokeRoleSessions) this.functions.push(revokeRoleSessions);
    this.grantInvestigation({
      planInvestigation,
      collectActivity,
      followPivots,
      analyzeActivity,
      inventoryRegion,
      attributeInventory,
      revokeRoleSessions,
    });

    this.grantReport(report, table);

    this.grantLeastPrivilege({ intake, contain, alert, notifyFailure, confirm }, table, config);
    for (const fn of [alert, notifyFailure, confirm, report]) {
      topic.grantPublish(fn);
      Validations.of(fn.executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          "Publishing to the encrypted topic needs GenerateDataKey*; the grant is limited to the topic's own key.",
      });
    }

    this.workflow = new Workflow(this, 'Workflow', {
      intake,
      contain,
      alert,
      notifyFailure,
      confirm,
      planInvestigation,
      collectActivity,
      followPivots,
      analyzeActivity,
      inventoryRegion,
      attributeInventory,
      report,
      revokeRoleSessions,
      logGroup: stateMachineLogs,
    });
    this.triggers = new Triggers(this, 'Triggers', {
      stateMachine: this.workflow.stateMachine,
      drills: config.drills,
    });

    this.addAlarms();
  }

  /**
   * Each role gets only its own actions. IAM writes are limited to users (user/*): the
   * responder runs as roles, so it can never change its own permissions.
   */
  private grantLeastPrivilege(
    fns: {
      intake: ResponderFunction;
      contain: ResponderFunction;
      alert: ResponderFunction;
      notifyFailure: ResponderFunction;
      confirm: ResponderFunction;
    },
    table: dynamodb.Table,
    config: ResponderConfig,
  ): void {
    // Pseudo parameters rather than the stack's account, so the policy (and its nag acknowledgement) reads the same in every account.
    const users = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:user/*`;
    fns.intake.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['iam:ListAccessKeys'], resources: [users] }),
    );

    const containWrites = ['iam:UpdateAccessKey'];
    if (config.revokeSessions) containWrites.push('iam:PutUserPolicy');
    if (config.loginProfile === 'delete') containWrites.push('iam:DeleteLoginProfile');
    fns.contain.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:ListUserTags', ...containWrites],
        resources: [users],
      }),
    );
    fns.contain.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['iam:GetAccountSummary'], resources: ['*'] }),
    );

    for (const fn of [fns.contain, fns.alert, fns.confirm]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: IDEMPOTENCY_ACTIONS, resources: [table.tableArn] }),
      );
    }

    const userWildcard = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]`;
    Validations.of(fns.intake.executionRole).acknowledge({
      id: userWildcard,
      reason:
        'The leaked key can belong to any IAM user of the account; ListAccessKeys is read-only and limited to users.',
    });
    Validations.of(fns.contain.executionRole).acknowledge({
      id: userWildcard,
      reason:
        'The leaked key can belong to any IAM user; the writes (UpdateAccessKey, PutUserPolicy, DeleteLoginProfile) are limited to users, never roles, so the responder cannot change its own permissions.',
    });
    Validations.of(fns.confirm.executionRole).acknowledge({
      id: userWildcard,
      reason:
        "Re-applies a containment that was undone on the key's user, which can be any IAM user; writes are limited to users, never roles.",
    });
    Validations.of(fns.contain.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'iam:GetAccountSummary (root-key detection) and X-Ray writes support no resource-level permissions.',
    });
  }

  private grantInvestigation(fns: {
    planInvestigation: ResponderFunction;
    collectActivity: ResponderFunction;
    followPivots: ResponderFunction;
    analyzeActivity: ResponderFunction;
    inventoryRegion: ResponderFunction;
    attributeInventory: ResponderFunction;
    revokeRoleSessions?: ResponderFunction;
  }): void {
    const bucket = this.evidence.bucket;
    const incidents = bucket.arnForObjects('incidents/*');
    fns.planInvestigation.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ec2:DescribeRegions'], resources: ['*'] }),
    );
    fns.collectActivity.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['cloudtrail:LookupEvents'], resources: ['*'] }),
    );
    fns.collectActivity.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [incidents] }),
    );
    fns.followPivots.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [incidents] }),
    );
    fns.inventoryRegion.addToRolePolicy(
      new iam.PolicyStatement({ actions: INVENTORY_READS, resources: ['*'] }),
    );
    fns.inventoryRegion.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [incidents] }),
    );
    for (const fn of [fns.analyzeActivity, fns.attributeInventory]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [incidents] }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['incidents/*'] } },
        }),
      );
    }
    Validations.of(fns.inventoryRegion.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The inventory reads (Describe*, List*, Get*) of EC2, IAM, SES, Lightsail, CloudTrail and Lambda support no resource-level scoping; all are read-only.',
    });
    const noResourceLevel = 'supports no resource-level permissions';
    Validations.of(fns.planInvestigation.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `ec2:DescribeRegions ${noResourceLevel}, nor do X-Ray's writes.`,
    });
    Validations.of(fns.collectActivity.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `cloudtrail:LookupEvents ${noResourceLevel}, nor do X-Ray's writes.`,
    });
    for (const fn of [
      fns.collectActivity,
      fns.followPivots,
      fns.analyzeActivity,
      fns.inventoryRegion,
      fns.attributeInventory,
    ]) {
      Validations.of(fn.executionRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(bucket.node.defaultChild as CfnResource)}.Arn>/incidents/*]`,
        reason:
          'Evidence objects are named per incident at run time; the grant is limited to the incidents/ prefix.',
      });
    }
    if (fns.revokeRoleSessions) {
      const roles = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/*`;
      fns.revokeRoleSessions.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['iam:PutRolePolicy'], resources: [roles] }),
      );
      // The responder can never change its own roles (CDK names them <stack>-...), nor AWS's.
      fns.revokeRoleSessions.addToRolePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: ['iam:PutRolePolicy'],
          resources: [
            `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${this.stackName}-*`,
            `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/*`,
          ],
        }),
      );
      Validations.of(fns.revokeRoleSessions.executionRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]`,
        reason:
          "The attacker may assume any role; an explicit deny keeps the responder's own roles and service-linked roles out of reach.",
      });
    }
  }

  /** Reads the incident's evidence, writes the report files and the manifest beside it, sends once. */
  private grantReport(report: ResponderFunction, table: dynamodb.Table): void {
    const bucket = this.evidence.bucket;
    report.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('incidents/*')],
      }),
    );
    // It writes its own files and the manifest, never the evidence the other steps stored.
    report.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [
          bucket.arnForObjects('incidents/*/report/*'),
          bucket.arnForObjects('incidents/*/manifest.json'),
        ],
      }),
    );
    report.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['incidents/*'] } },
      }),
    );
    report.addToRolePolicy(
      new iam.PolicyStatement({
        actions: IDEMPOTENCY_ACTIONS,
        resources: [table.tableArn],
      }),
    );
    const bucketArn = `<${this.getLogicalId(bucket.node.defaultChild as CfnResource)}.Arn>`;
    Validations.of(report.executionRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/incidents/*]`,
      reason:
        'Reads the evidence of the incident it reports, named per incident at run time; GetObject also backs the presigned report link.',
    });
    for (const written of ['incidents/*/report/*', 'incidents/*/manifest.json']) {
      Validations.of(report.executionRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${written}]`,
        reason:
          "Writes only its own report files and the bundle's manifest, in the folder of an incident named at run time.",
      });
    }
  }

  private addAlarms(): void {
    const topic = this.notifications.topic;
    const sm = this.workflow.stateMachine;
    const period = Duration.minutes(1);
    alarmOnAny(
      this,
      'ExecutionsFailed',
      sm.metricFailed({ period }),
      'A response failed: a leaked key may still be active.',
      topic,
    );
    alarmOnAny(this, 'ExecutionsTimedOut', sm.metricTimedOut({ period }), 'A response timed out.', topic);
    alarmOnAny(
      this,
      'ExecutionsAborted',
      sm.metricAborted({ period }),
      'A response was aborted by hand.',
      topic,
    );
    alarmOnAny(
      this,
      'UndeliveredEvents',
      this.triggers.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period }),
      'A leaked-key event could not start the workflow: it waits in the dead-letter queue.',
      topic,
    );
  }
}
