import { type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

export interface WorkflowProps {
  readonly intake: lambda.IFunction;
  readonly contain: lambda.IFunction;
  readonly alert: lambda.IFunction;
  readonly notifyFailure: lambda.IFunction;
  readonly confirm: lambda.IFunction;
  readonly planInvestigation: lambda.IFunction;
  readonly collectActivity: lambda.IFunction;
  readonly followPivots: lambda.IFunction;
  readonly analyzeActivity: lambda.IFunction;
  readonly inventoryRegion: lambda.IFunction;
  readonly attributeInventory: lambda.IFunction;
  readonly report: lambda.IFunction;
  /** Present when the stack revokes the sessions of roles the attacker assumed. */
  readonly revokeRoleSessions?: lambda.IFunction;
  /** How long IAM gets to settle before the containment is read back. @default 60 seconds */
  readonly settleTime?: Duration;
  /** Keys contained at once; IAM throttles writes per account. @default 5 */
  readonly maxConcurrentKeys?: number;
  readonly logGroup: logs.ILogGroup;
}

/** Errors worth another try: Lambda's own hiccups and the responder's TransientAwsError. */
const TRANSIENT = [
  'TransientAwsError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
];

/**
 * "Respond to exposed key": Intake -> Contain (one branch per key) -> Alert; any failure ->
 * Notify failure -> Fail. Authored in JSONPath (not JSONata) so the very same definition runs
 * locally under aws-local-stepfunctions.
 */
export class Workflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);

    const failed = new sfn.Fail(this, 'Response failed', {
      comment: 'The failure alert has been sent (or tried); the failed-executions alarm fires.',
      error: 'ResponseFailed',
      cause: 'A step of the response failed; the failure alert says what was and was not done.',
    });
    const notifyFailure = lambdaStep(this, 'Notify failure', {
      comment: 'Say what was done and what was not, whatever state the response reached.',
      lambdaFunction: props.notifyFailure,
      payload: sfn.TaskInput.fromObject({ 'state.$': '$', 'executionId.$': '$$.Execution.Id' }),
      resultPath: '$.failureAlert',
    });
    notifyFailure.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failureAlertError' });
    notifyFailure.next(failed);

    const receive = new sfn.Pass(this, 'Receive the event', {
      comment: 'Keep the raw event under $.event so the failure path can quote it.',
      parameters: { 'event.$': '$' },
    });

    const intake = lambdaStep(this, 'Read the event', {
      comment:
        'Validate the event into an incident and the keys it names. Drops the raw event from the state.',
      lambdaFunction: props.intake,
      payload: sfn.TaskInput.fromObject({ 'event.$': '$.event' }),
      // The result replaces the state (the default ResultPath). Not written as resultPath '$':
      // aws-local-stepfunctions 3.0 stores that under a key named "$" instead of replacing the state.
      resultSelector: { 'intake.$': '$' },
    });
    intake.addCatch(notifyFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const containKey = lambdaStep(this, 'Contain the key', {
      comment:
        'Find the owner, decide by policy, deactivate, revoke sessions. De-duplicated per account and key.',
      lambdaFunction: props.contain,
      waitsForOtherExecutions: true,
    });
    const recordFailure = new sfn.Pass(this, 'Record that the key was not contained', {
      comment: 'One key failing must not stop the others; the alert reports it and the execution then fails.',
      parameters: {
        'accessKeyId.$': '$.key.accessKeyId',
        'incidentId.$': '$.incident.incidentId',
        owner: { type: 'unknown' },
        decision: 'failed',
        reason: 'The Contain step failed for this key; the key may still be active.',
        actions: [],
        'error.$': '$.error.Error',
        'cause.$': '$.error.Cause',
      },
    });
    containKey.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const containEach = new sfn.Map(this, 'Contain each exposed key', {
      comment: 'One branch per key named by the event.',
      itemsPath: '$.intake.keys',
      itemSelector: { 'incident.$': '$.intake.incident', 'key.$': '$$.Map.Item.Value' },
      maxConcurrency: props.maxConcurrentKeys ?? 5,
      resultPath: '$.containment',
    });
    containEach.itemProcessor(containKey);
    containEach.addCatch(notifyFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const alert = lambdaStep(this, 'Send the containment alert', {
      comment: 'The first message, right after containment. Sent once per incident.',
      lambdaFunction: props.alert,
      waitsForOtherExecutions: true,
      payload: sfn.TaskInput.fromObject({ 'intake.$': '$.intake', 'containment.$': '$.containment' }),
      resultPath: '$.alert',
    });
    alert.addCatch(notifyFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const done = new sfn.Succeed(this, 'Response complete');
    const notAllContained = new sfn.Fail(this, 'A key was not contained', {
      comment: 'The alert already said which key and why; failing the execution raises the alarm too.',
      error: 'KeyNotContained',
      cause:
        'At least one key failed, was refused, needs a person, or had its containment undone; see the alerts.',
    });
    const investigationFailed = new sfn.Fail(this, 'The investigation did not finish', {
      comment: 'The report said what is missing and why; failing the execution raises the alarm too.',
      error: 'InvestigationIncomplete',
      cause: 'A step of the investigation failed; the report lists what it could not establish.',
    });
    // A condition on a path the state lacks is a runtime error: test presence first.
    const checkOutcome = new sfn.Choice(this, 'Was every key handled?')
      .when(sfn.Condition.booleanEquals('$.alert.allHandled', false), notAllContained)
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.investigation.confirmation.held'),
          sfn.Condition.booleanEquals('$.investigation.confirmation.held', false),
        ),
        notAllContained,
      )
      .when(
        sfn.Condition.or(sfn.Condition.isPresent('$.error'), sfn.Condition.isPresent('$.analysis.Error')),
        investigationFailed,
      )
      .otherwise(done);

    const report = lambdaStep(this, 'Send the report', {
      comment:
        'The full report by email and chat, the HTML report and the evidence manifest; also after a failed investigation step, saying what is missing.',
      lambdaFunction: props.report,
      // 11 tries wait about 5.7 minutes in all: longer than the Report function may run (5 minutes).
      waitsForOtherExecutions: 11,
      payload: sfn.TaskInput.fromObject({ 'state.$': '$', 'executionId.$': '$$.Execution.Id' }),
      resultPath: '$.report',
    });
    report.addCatch(notifyFailure, { errors: ['States.ALL'], resultPath: '$.reportError' });
    report.next(checkOutcome);

    const plan = lambdaStep(this, 'Plan the investigation', {
      comment: 'Which keys, which regions (us-east-1 always), which time window.',
      lambdaFunction: props.planInvestigation,
      payload: sfn.TaskInput.fromObject({ 'intake.$': '$.intake', 'containment.$': '$.containment' }),
      resultPath: '$.plan',
    });
    plan.addCatch(report, { errors: ['States.ALL'], resultPath: '$.error' });

    const investigate = new sfn.Parallel(this, 'Investigate', {
      comment:
        'Confirm the containment held, collect the activity of the key and take the inventory, side by side.',
      // Each branch ends with the one field it contributes.
      resultSelector: {
        'confirmation.$': '$[0].confirmation',
        'activity.$': '$[1].activity',
        'inventory.$': '$[2].inventory',
      },
      resultPath: '$.investigation',
    });
    investigate.branch(this.confirmBranch(props));
    investigate.branch(this.collectBranch(props));
    investigate.branch(this.inventoryBranch(props));
    investigate.addCatch(report, { errors: ['States.ALL'], resultPath: '$.error' });

    const analyze = lambdaStep(this, 'Analyze the activity', {
      comment:
        'Classify what the key and its pivots did, in order of danger; findings go to the evidence bucket.',
      lambdaFunction: props.analyzeActivity,
      payload: sfn.TaskInput.fromObject({ 'activity.$': '$.investigation.activity' }),
      resultPath: '$.analysis',
    });
    const attributeInventory = lambdaStep(this, 'Attribute the inventory', {
      comment:
        'Which resources the key (or a key it minted) made, which appeared since, their cost and clean-up.',
      lambdaFunction: props.attributeInventory,
      payload: sfn.TaskInput.fromObject({
        'incident.$': '$.intake.incident',
        'activity.$': '$.investigation.activity',
        'analysis.$': '$.analysis',
        'inventory.$': '$.investigation.inventory',
      }),
      resultPath: '$.inventory',
    });
    attributeInventory.addCatch(report, { errors: ['States.ALL'], resultPath: '$.error' });
    // The inventory does not need the analysis: attribute it anyway; the report says what is missing and why.
    analyze.addCatch(attributeInventory, { errors: ['States.ALL'], resultPath: '$.analysis' });
    attributeInventory.next(report);
    const nothingToAnalyze = new sfn.Pass(this, 'Nothing to analyze', {
      result: sfn.Result.fromObject({ skipped: 'no activity was collected' }),
      resultPath: '$.analysis',
    });
    const anyActivity = new sfn.Choice(this, 'Was activity collected?')
      .when(sfn.Condition.isPresent('$.investigation.activity.manifestKey'), analyze.next(attributeInventory))
      .otherwise(nothingToAnalyze.next(attributeInventory));

    const definition = receive
      .next(intake)
      .next(containEach)
      .next(alert)
      .next(plan)
      .next(investigate)
      .next(anyActivity);

    this.stateMachine = new sfn.StateMachine(this, 'RespondToExposedKey', {
      comment: 'Respond to an exposed AWS access key: contain it first, then alert.',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      // Collecting 90 days of a busy key at CloudTrail's 2 requests per second can take hours.
      timeout: Duration.hours(12),
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    const role = this.stateMachine.role;
    for (const fn of this.functions(props)) {
      const logicalId = Stack.of(this).getLogicalId(fn.node.defaultChild as CfnResource);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason:
          "CDK grants lambda:InvokeFunction on the function and its versions (:*); only the responder's own functions.",
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (PutTraceSegments, GetSamplingRules, ...) and log delivery support no resource-level permissions.',
    });
  }

  private functions(props: WorkflowProps): lambda.IFunction[] {
    const fns = [
      props.intake,
      props.contain,
      props.alert,
      props.notifyFailure,
      props.confirm,
      props.planInvestigation,
      props.collectActivity,
      props.followPivots,
      props.analyzeActivity,
      props.inventoryRegion,
      props.attributeInventory,
      props.report,
    ];
    return props.revokeRoleSessions ? [...fns, props.revokeRoleSessions] : fns;
  }

  /**
   * IAM is eventually consistent: an attacker with IAM rights can undo a fresh containment in
   * the first seconds. Read it back once that window has passed, and re-apply what was undone.
   */
  private confirmBranch(props: WorkflowProps): sfn.IChainable {
    const settle = new sfn.Wait(this, 'Let IAM settle', {
      comment: 'Give IAM time to apply the changes everywhere before reading them back.',
      time: sfn.WaitTime.duration(props.settleTime ?? Duration.seconds(60)),
    });
    const confirm = lambdaStep(this, 'Confirm the containment held', {
      comment: 'Is each key still inactive and its session deny still there? Re-apply and alert if not.',
      lambdaFunction: props.confirm,
      waitsForOtherExecutions: true,
      payload: sfn.TaskInput.fromObject({ 'intake.$': '$.intake', 'containment.$': '$.containment' }),
      resultPath: '$.confirmation',
    });
    const nothingToConfirm = new sfn.Pass(this, 'Nothing to confirm', {
      comment: 'No key was deactivated by this execution.',
      result: sfn.Result.fromObject({ held: true, confirmations: [] }),
      resultPath: '$.confirmation',
    });
    return new sfn.Choice(this, 'Was a key deactivated?')
      .when(sfn.Condition.numberGreaterThan('$.alert.containedCount', 0), settle.next(confirm))
      .otherwise(nothingToConfirm);
  }

  /**
   * Every CloudTrail event of the keys, in every region, then of the temporary keys they minted.
   * Pages continue across invocations (the loop carries the cursor), so there is no ceiling.
   */
  private collectBranch(props: WorkflowProps): sfn.IChainable {
    const readPages = lambdaStep(this, 'Read CloudTrail pages', {
      comment: "A batch of LookupEvents pages at the region's 2 requests per second; returns where to go on.",
      lambdaFunction: props.collectActivity,
    });
    const regionRead = new sfn.Succeed(this, 'Region read');
    const unreadable = new sfn.Pass(this, 'Record the region as unreadable', {
      comment: 'A region that fails is recorded as incomplete and does not fail the others.',
      parameters: {
        'incidentId.$': '$.incidentId',
        'region.$': '$.region',
        'window.$': '$.window',
        'keys.$': '$.keys',
        progress: {
          keyIndex: 0,
          cursor: { pages: 0, events: 0, done: true },
          results: [],
          pivots: [],
          invocations: 0,
          done: true,
          'failure.$': '$.error',
        },
      },
    });
    readPages.addCatch(unreadable, { errors: ['States.ALL'], resultPath: '$.error' });
    readPages.next(
      new sfn.Choice(this, 'All pages read?')
        .when(sfn.Condition.booleanEquals('$.progress.done', true), regionRead)
        .otherwise(readPages),
    );
    const collect = new sfn.Map(this, 'Collect activity in each region', {
      comment: 'One branch per region, each within its own request budget.',
      itemsPath: '$.plan.regions',
      itemSelector: {
        'incidentId.$': '$.plan.incidentId',
        'region.$': '$$.Map.Item.Value',
        'window.$': '$.plan.window',
        'keys.$': '$.plan.keys',
      },
      maxConcurrency: 40,
      resultPath: '$.results',
    });
    collect.itemProcessor(readPages);

    const follow = lambdaStep(this, 'Follow the pivots', {
      comment: 'Record the round in the manifest; the keys it minted are collected next.',
      lambdaFunction: props.followPivots,
      payload: sfn.TaskInput.fromObject({ 'plan.$': '$.plan', 'results.$': '$.results' }),
    });
    const collected = new sfn.Pass(this, 'Activity collected');
    let afterRounds: sfn.IChainable = collected;
    if (props.revokeRoleSessions) {
      const revoke = lambdaStep(this, 'Revoke sessions of the roles it assumed', {
        comment: 'Deny the older sessions of every role the leaked key or its pivots assumed.',
        lambdaFunction: props.revokeRoleSessions,
        payload: sfn.TaskInput.fromObject({ 'rolesAssumed.$': '$.activity.rolesAssumed' }),
        resultPath: '$.activity.roleSessions',
      });
      afterRounds = new sfn.Choice(this, 'Did it assume roles?')
        .when(sfn.Condition.isPresent('$.activity.rolesAssumed[0]'), revoke.next(collected))
        .otherwise(collected);
    }
    follow.next(
      new sfn.Choice(this, 'Did it mint more keys?')
        .when(sfn.Condition.booleanEquals('$.more', true), collect)
        .otherwise(afterRounds),
    );

    const nothingToInvestigate = new sfn.Pass(this, 'Nothing to investigate', {
      comment: 'No key of this account to investigate (unknown, refused or duplicate keys).',
      result: sfn.Result.fromObject({ skipped: 'no key of this account to investigate' }),
      resultPath: '$.activity',
    });
    return new sfn.Choice(this, 'Any key to investigate?')
      .when(sfn.Condition.isPresent('$.plan.keys[0]'), collect.next(follow))
      .otherwise(nothingToInvestigate);
  }

  /**
   * What exists now in every region the key could reach, read while the activity is collected;
   * the attribution to the key comes after both.
   */
  private inventoryBranch(props: WorkflowProps): sfn.IChainable {
    const readRegion = lambdaStep(this, 'Take the inventory of a region', {
      comment:
        'Every reader of the region (EC2, IAM in us-east-1, Lightsail, SES, Lambda, guard rails), a few at a time.',
      lambdaFunction: props.inventoryRegion,
    });
    readRegion.addCatch(
      new sfn.Pass(this, 'Record the region as not inventoried', {
        comment: 'A region that fails is said in the report and does not fail the others.',
        parameters: {
          'region.$': '$.region',
          rawKey: '',
          items: 0,
          apiCalls: 0,
          services: [],
          'failure.$': '$.error.Error',
        },
      }),
      { errors: ['States.ALL'], resultPath: '$.error' },
    );
    const inventory = new sfn.Map(this, 'Take the inventory of each region', {
      comment: 'One branch per region the investigation covers.',
      itemsPath: '$.plan.regions',
      itemSelector: {
        'incidentId.$': '$.plan.incidentId',
        'region.$': '$$.Map.Item.Value',
        'since.$': '$.plan.window.start',
      },
      maxConcurrency: 10,
      resultPath: '$.inventory',
    });
    inventory.itemProcessor(readRegion);
    return inventory;
  }

  /** A log group whose name Step Functions accepts without growing the account's resource policy. */
  static logGroup(scope: Construct, id: string): logs.LogGroup {
    return new logs.LogGroup(scope, id, {
      logGroupName: `/aws/vendedlogs/states/${Stack.of(scope).stackName}-respond-to-exposed-key`,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/**
 * A Lambda task as every step of this workflow wants it: the function's result as the output,
 * transient errors retried with jitter, and, for idempotent steps, a wait while another execution
 * works on the same key (Powertools' IdempotencyAlreadyInProgressError).
 */
function lambdaStep(
  scope: Construct,
  name: string,
  props: Omit<tasks.LambdaInvokeProps, 'payloadResponseOnly' | 'retryOnServiceExceptions'> & {
    /** true: wait about 1.5 minutes; a number: that many tries, long enough to outlast the other's run. */
    waitsForOtherExecutions?: boolean | number;
  },
): tasks.LambdaInvoke {
  const { waitsForOtherExecutions, ...invoke } = props;
  const task = new tasks.LambdaInvoke(scope, name, {
    ...invoke,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
  });
  // Full jitter spreads the retries of parallel branches that IAM throttled together.
  task.addRetry({
    errors: TRANSIENT,
    interval: Duration.seconds(2),
    maxAttempts: 4,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  if (waitsForOtherExecutions) {
    task.addRetry({
      errors: ['IdempotencyAlreadyInProgressError'],
      interval: Duration.seconds(2),
      maxAttempts: typeof waitsForOtherExecutions === 'number' ? waitsForOtherExecutions : 8,
      backoffRate: 1.5,
    });
  }
  return task;
}
