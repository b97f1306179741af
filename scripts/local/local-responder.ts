import './polyfills';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import { MESSAGE_KIND_ATTRIBUTE } from '../../lambdas/shared/message-kind';
import { buildApp } from '../../lib/app';
import type { ResponderConfig } from '../../lib/config';
import { ResponderFunction } from '../../lib/responder-function';
import { type PhysicalResource, type ResolveScope, resolve, resourcesOfType } from './cfn';

/**
 * Runs the real, synthesized workflow on this machine: the state machine definition from the
 * CDK template, interpreted by aws-local-stepfunctions, with each Lambda task served by the
 * very handler module that the function bundles, against an emulated AWS (moto) whose resources
 * (table, topic, rules) are made from the same template.
 *
 * The handlers read their configuration from process.env at first use, so one process hosts
 * one LocalResponder (one configuration); tests that need another configuration use another file.
 */

export const LOCAL_ACCOUNT_ID = '123456789012';
export const LOCAL_REGION = 'us-east-1';

export interface LocalResponderOptions {
  /** The moto endpoint, e.g. http://127.0.0.1:5000. */
  endpoint: string;
  /** CDK context: the same keys as `cdk deploy -c ...`. */
  context?: Record<string, unknown>;
  /** Show the handlers' Powertools logs. @default false */
  verbose?: boolean;
  /** How long each Wait state really waits, in ms (the definition says a minute). @default 0 */
  waitMs?: number;
  /** The CloudTrail LookupEvents stand-in (moto has none). */
  cloudTrailEndpoint?: string;
  /** The Lightsail stand-in (moto has none). */
  lightsailEndpoint?: string;
}

export interface Alert {
  subject: string;
  message: string;
  /** The message's `kind` attribute: containment, confirmation, failure or report. */
  kind: string;
}

export interface StateStep {
  type: EventLog['type'];
  state?: string;
  at: number;
  error?: string;
  cause?: string;
}

export interface ExecutionOutcome {
  executionId: string;
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  cause?: string;
  startedAt: number;
  endedAt: number;
  steps: StateStep[];
  /** The output of each task state, by state name (the last one for a Map's inner task: see taskOutputs). */
  taskOutputs: Record<string, unknown[]>;
}

type Handler = (input: unknown, context: unknown) => Promise<unknown>;

/** The execution log entries of aws-local-stepfunctions (the package does not export the type). */
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer T> ? T : never;

export class LocalResponder {
  readonly config: ResponderConfig;
  readonly template: Record<string, unknown>;
  readonly definition: Record<string, unknown>;
  readonly stateMachineName = 'RespondToExposedKey';
  readonly alertTopicArn: string;
  private readonly stateMachine: StateMachine;
  private readonly handlers: Record<string, (input: unknown) => Promise<unknown>>;
  private readonly retryOverrides: Record<string, number>;
  private readonly waitOverrides: Record<string, number>;

  private constructor(
    private readonly clients: Clients,
    parts: {
      config: ResponderConfig;
      template: Record<string, unknown>;
      definition: Record<string, unknown>;
      handlers: Record<string, (input: unknown) => Promise<unknown>>;
      alertTopicArn: string;
      alertQueueUrl: string;
      routedQueueUrl: string;
      waitMs: number;
    },
  ) {
    this.config = parts.config;
    this.template = parts.template;
    this.definition = parts.definition;
    this.handlers = parts.handlers;
    this.alertTopicArn = parts.alertTopicArn;
    this.alertQueueUrl = parts.alertQueueUrl;
    this.routedQueueUrl = parts.routedQueueUrl;
    this.stateMachine = new StateMachine(this.definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    // Retry waits are the definition's; scaled down so a test that exercises them stays quick.
    this.retryOverrides = Object.fromEntries(Object.keys(this.handlers).map((name) => [name, 50]));
    this.waitOverrides = Object.fromEntries(waitStates(this.definition).map((name) => [name, parts.waitMs]));
  }

  readonly alertQueueUrl: string;
  readonly routedQueueUrl: string;

  /** Synthesizes the app with `context`, provisions its resources in the emulator and loads the handlers. */
  static async create(options: LocalResponderOptions): Promise<LocalResponder> {
    configureSdkEnvironment(options.endpoint, options.verbose ?? false);
    if (options.cloudTrailEndpoint) process.env.AWS_ENDPOINT_URL_CLOUDTRAIL = options.cloudTrailEndpoint;
    if (options.lightsailEndpoint) process.env.AWS_ENDPOINT_URL_LIGHTSAIL = options.lightsailEndpoint;
    const clients = makeClients();

    const outdir = mkdtempSync(path.join(tmpdir(), 'ekr-synth-'));
    let synthesized: ReturnType<typeof synthesize>;
    try {
      synthesized = synthesize(options.context ?? {}, outdir);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    const { template, config, functions } = synthesized;

    const resources: Record<string, PhysicalResource> = {};
    const scope: ResolveScope = {
      resources,
      accountId: LOCAL_ACCOUNT_ID,
      region: LOCAL_REGION,
      stackName: 'ExposedKeyResponder',
    };

    for (const [id, props] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
      const name = `ekr-${id}`.slice(0, 255);
      await clients.dynamodb
        .send(
          new CreateTableCommand({
            TableName: name,
            KeySchema: props.KeySchema as never,
            AttributeDefinitions: props.AttributeDefinitions as never,
            BillingMode: 'PAY_PER_REQUEST',
          }),
        )
        .catch(ignore('ResourceInUseException'));
      resources[id] = {
        ref: name,
        attributes: { Arn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${name}` },
      };
    }
    for (const [id] of resourcesOfType(template, 'AWS::S3::Bucket')) {
      const name = `ekr-${id}`.toLowerCase().slice(0, 63);
      await clients.s3
        .send(new CreateBucketCommand({ Bucket: name }))
        .catch(ignore('BucketAlreadyOwnedByYou'));
      resources[id] = {
        ref: name,
        attributes: { Arn: `arn:aws:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com` },
      };
    }
    let alertTopicArn = '';
    for (const [id] of resourcesOfType(template, 'AWS::SNS::Topic')) {
      const out = await clients.sns.send(new CreateTopicCommand({ Name: `ekr-${id}` }));
      alertTopicArn = out.TopicArn ?? '';
      resources[id] = { ref: alertTopicArn, attributes: { TopicArn: alertTopicArn, TopicName: `ekr-${id}` } };
    }
    for (const [id, props] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
      const name = props.LogGroupName ? String(resolve(props.LogGroupName, scope)) : `/local/${id}`;
      resources[id] = {
        ref: name,
        attributes: { Arn: `arn:aws:logs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:log-group:${name}` },
      };
    }
    for (const [id] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      resources[id] = {
        ref: id,
        attributes: { Arn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${id}` },
      };
    }
    for (const [id] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
      const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${id}`;
      resources[id] = { ref: arn, attributes: { Arn: arn, Name: id } };
    }

    // Alerts are read back the way a subscriber would get them: an SQS queue on the topic.
    const alertQueueUrl = await createQueue(clients.sqs, 'ekr-alert-readback');
    await clients.sns.send(
      new SubscribeCommand({
        TopicArn: alertTopicArn,
        Protocol: 'sqs',
        Endpoint: await queueArn(clients.sqs, alertQueueUrl),
      }),
    );

    // The stack's own rules, with their real patterns, route events to a queue we read.
    const routedQueueUrl = await createQueue(clients.sqs, 'ekr-routed-events');
    const routedQueueArn = await queueArn(clients.sqs, routedQueueUrl);
    for (const [id, props] of resourcesOfType(template, 'AWS::Events::Rule')) {
      await clients.events.send(
        new PutRuleCommand({ Name: id, EventPattern: JSON.stringify(props.EventPattern) }),
      );
      await clients.events.send(
        new PutTargetsCommand({ Rule: id, Targets: [{ Id: 'workflow', Arn: routedQueueArn }] }),
      );
    }

    // Each function's environment, exactly as the template sets it.
    const merged: Record<string, string> = {};
    for (const fn of functions) {
      const variables = (
        template.Resources[fn.logicalId].Properties?.Environment as { Variables?: unknown } | undefined
      )?.Variables;
      const resolved = resolve(variables ?? {}, scope) as Record<string, string>;
      for (const [key, value] of Object.entries(resolved)) {
        if (key in merged && merged[key] !== value) {
          throw new Error(
            `Functions disagree on ${key} (${merged[key]} vs ${value}); the local runner shares one environment.`,
          );
        }
        merged[key] = value;
      }
    }
    Object.assign(process.env, merged, quietPowertools(options.verbose ?? false));

    for (const fn of functions)
      fn.timeoutSeconds = Number(template.Resources[fn.logicalId].Properties?.Timeout ?? 3);
    const definitionString = template.Resources[stateMachineId(template)].Properties?.DefinitionString;
    const definition = JSON.parse(String(resolve(definitionString, scope))) as Record<string, unknown>;
    const handlers = bindHandlers(definition, functions);

    return new LocalResponder(clients, {
      config,
      template,
      definition,
      handlers,
      alertTopicArn,
      alertQueueUrl,
      routedQueueUrl,
      waitMs: options.waitMs ?? 0,
    });
  }

  /**
   * Puts `event` on the emulated event bus, where the stack's rules decide whether it starts the
   * workflow. Returns the event as the workflow receives it, or undefined when no rule matched.
   */
  async deliver(event: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const out = await this.clients.events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: String(event.source),
            DetailType: String(event['detail-type']),
            Detail: JSON.stringify(event.detail ?? {}),
            Resources: Array.isArray(event.resources) ? (event.resources as string[]) : [],
            Time: typeof event.time === 'string' ? new Date(event.time) : undefined,
          },
        ],
      }),
    );
    if (out.FailedEntryCount)
      throw new Error(`The emulated bus refused the event: ${JSON.stringify(out.Entries)}`);
    const received = await this.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.routedQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length) {
      await this.clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.routedQueueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    if (messages.length === 0) return undefined;
    // One copy per matching rule would start one execution each; the stack's rules do not overlap.
    if (messages.length > 1)
      throw new Error(`${messages.length} rules matched one event: the rules overlap.`);
    const routed = JSON.parse(messages[0].Body ?? '{}') as Record<string, unknown>;
    // Keep the producer's account and region (moto stamps its own): AWS delivers Health events as they were emitted.
    return { ...routed, account: event.account ?? routed.account, region: event.region ?? routed.region };
  }

  /** Delivers the event and, if a rule matched, runs the workflow with it. */
  async respond(
    event: Record<string, unknown>,
    onStep?: (step: StateStep) => void,
  ): Promise<ExecutionOutcome | undefined> {
    const routed = await this.deliver(event);
    return routed ? this.execute(routed, onStep) : undefined;
  }

  /**
   * Fault injection for the failure paths: until the returned function is called, the task state `stateName`
   * fails with `error` (as a Lambda function that threw it) instead of running its handler.
   */
  failState(stateName: string, error: Error): () => void {
    const original = this.handlers[stateName];
    if (!original) throw new Error(`No task state named "${stateName}" in the workflow.`);
    this.handlers[stateName] = async () => {
      throw error;
    };
    return () => {
      this.handlers[stateName] = original;
    };
  }

  /** Runs the workflow with `input` as a StartExecution would (no rule in between). */
  async execute(input: unknown, onStep?: (step: StateStep) => void): Promise<ExecutionOutcome> {
    const name = randomUUID();
    const executionId = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${this.stateMachineName}:${name}`;
    const startedAt = Date.now();
    const execution = this.stateMachine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.handlers as never,
        retryIntervalOverrides: this.retryOverrides,
        waitTimeOverrides: this.waitOverrides,
      },
      context: {
        Execution: {
          Id: executionId,
          Name: name,
          Input: input,
          StartTime: new Date(startedAt).toISOString(),
        },
        StateMachine: {
          Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${this.stateMachineName}`,
          Name: this.stateMachineName,
        },
      } as never,
    });
    const steps: StateStep[] = [];
    const taskOutputs: Record<string, unknown[]> = {};
    let failure: { error?: string; cause?: string } | undefined;
    let output: unknown;
    for await (const log of execution.eventLogs) {
      const step = toStep(log);
      steps.push(step);
      onStep?.(step);
      if (log.type === 'StateExited' && log.state.type === 'Task') {
        const outputs = taskOutputs[log.state.name] ?? [];
        outputs.push(log.state.output);
        taskOutputs[log.state.name] = outputs;
      }
      if (log.type === 'ExecutionFailed') failure = { error: log.Error, cause: stringify(log.Cause) };
      if (log.type === 'ExecutionSucceeded') output = log.output;
    }
    await execution.result.catch(() => undefined);
    return {
      executionId,
      status: failure ? 'FAILED' : 'SUCCEEDED',
      output,
      ...(failure ?? {}),
      startedAt,
      endedAt: Date.now(),
      steps,
      taskOutputs,
    };
  }

  private readonly inbox: Record<'alert' | 'report', Alert[]> = { alert: [], report: [] };

  /**
   * Every alert (containment, confirmation, failure) published since the last call, oldest first, as the
   * alert queue's SQS subscription gets them. Reports are kept apart for `readReports`.
   */
  async readAlerts(): Promise<Alert[]> {
    await this.drainQueue();
    return this.inbox.alert.splice(0);
  }

  /** Every full report published since the last call (the SQS variant: the e-mail text). */
  async readReports(): Promise<Alert[]> {
    await this.drainQueue();
    return this.inbox.report.splice(0);
  }

  private async drainQueue(): Promise<void> {
    for (;;) {
      const out = await this.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.alertQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) {
        const envelope = JSON.parse(m.Body ?? '{}') as {
          Subject?: string;
          Message?: string;
          MessageAttributes?: Record<string, { Value?: string }>;
        };
        const kind = envelope.MessageAttributes?.[MESSAGE_KIND_ATTRIBUTE]?.Value ?? 'alert';
        const alert = { subject: envelope.Subject ?? '', message: envelope.Message ?? '', kind };
        (kind === 'report' ? this.inbox.report : this.inbox.alert).push(alert);
      }
      await this.clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.alertQueueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }

  async discardAlerts(): Promise<void> {
    await this.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: this.alertQueueUrl }));
    this.inbox.alert.length = 0;
    this.inbox.report.length = 0;
  }
}

interface Clients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  sqs: SQSClient;
  events: EventBridgeClient;
}

function makeClients(): Clients {
  return {
    s3: new S3Client({}),
    dynamodb: new DynamoDBClient({}),
    sns: new SNSClient({}),
    sqs: new SQSClient({}),
    events: new EventBridgeClient({}),
  };
}

/** Points every SDK client of this process (the handlers' too) at the emulator. */
export function configureSdkEnvironment(endpoint: string, verbose = false): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    // The local runner is on the machine's Node 20; the Lambdas run Node 24, so the SDK's warning does not apply.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...quietPowertools(verbose),
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

function quietPowertools(verbose: boolean): Record<string, string> {
  return {
    POWERTOOLS_LOG_LEVEL: verbose ? 'INFO' : 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
}

interface LocalFunction {
  logicalId: string;
  step: string;
  entryFile: string;
  /** The function's Timeout, so the handler sees the remaining time it would have in Lambda. */
  timeoutSeconds?: number;
}

function synthesize(context: Record<string, unknown>, outdir: string) {
  const { config, primary } = buildApp(
    // Bundling is skipped: the handlers run from their TypeScript sources, the same code esbuild bundles.
    { context: { ...context, 'aws:cdk:bundling-stacks': [] }, outdir },
    LOCAL_ACCOUNT_ID,
  );
  const template = Template.fromStack(primary).toJSON() as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  const functions: LocalFunction[] = primary.node
    .findAll()
    .filter((c): c is ResponderFunction => c instanceof ResponderFunction)
    .map((fn) => ({
      logicalId: primary.getLogicalId(fn.node.defaultChild as never),
      step: fn.step,
      entryFile: fn.entryFile,
    }));
  return { template, config, functions };
}

function stateMachineId(template: { Resources: Record<string, { Type: string }> }): string {
  const ids = Object.keys(template.Resources).filter(
    (id) => template.Resources[id].Type === 'AWS::StepFunctions::StateMachine',
  );
  if (ids.length !== 1) throw new Error(`Expected one state machine in the template, found ${ids.length}.`);
  return ids[0];
}

type StateDefinition = Record<string, unknown>;

/** Calls `fn` for every state of the definition, those inside Map and Parallel states included. */
function forEachState(definition: StateDefinition, fn: (name: string, state: StateDefinition) => void): void {
  const visit = (states: Record<string, StateDefinition>) => {
    for (const [name, state] of Object.entries(states)) {
      fn(name, state);
      const processor = (state.ItemProcessor ?? state.Iterator) as
        | { States?: Record<string, StateDefinition> }
        | undefined;
      if (processor?.States) visit(processor.States);
      for (const branch of (state.Branches as { States: Record<string, StateDefinition> }[] | undefined) ??
        []) {
        visit(branch.States);
      }
    }
  };
  visit(definition.States as Record<string, StateDefinition>);
}

function waitStates(definition: StateDefinition): string[] {
  const names: string[] = [];
  forEachState(definition, (name, state) => {
    if (state.Type === 'Wait') names.push(name);
  });
  return names;
}

/** Maps each Task state to the handler of the Lambda function its Resource names. */
function bindHandlers(definition: StateDefinition, functions: LocalFunction[]) {
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  forEachState(definition, (name, state) => {
    if (state.Type !== 'Task') return;
    const resource = String(state.Resource);
    const functionArn =
      resource === 'arn:aws:states:::lambda:invoke'
        ? String((state.Parameters as Record<string, unknown>)?.FunctionName)
        : resource;
    const logicalId = functionArn.split(':function:')[1]?.split(':')[0];
    const fn = functions.find((f) => f.logicalId === logicalId);
    if (!fn)
      throw new Error(`Task state "${name}" calls ${resource}, which is none of the stack's functions.`);
    handlers[name] = lambdaLike(fn);
  });
  return handlers;
}

/**
 * Calls the handler as Lambda would: JSON in and out, a context object, and a thrown error
 * reported with its name as the error type and {errorType, errorMessage} as the cause.
 */
function lambdaLike(fn: LocalFunction): (input: unknown) => Promise<unknown> {
  let handler: Handler | undefined;
  return async (input) => {
    handler ??= (require(fn.entryFile) as { handler: Handler }).handler;
    const deadline = Date.now() + (fn.timeoutSeconds ?? 3) * 1000;
    const context = {
      functionName: fn.logicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${fn.logicalId}`,
      memoryLimitInMB: '256',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${fn.logicalId}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    try {
      const result = await handler(JSON.parse(JSON.stringify(input ?? null)), context);
      return JSON.parse(JSON.stringify(result ?? null));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      const reported = new Error(JSON.stringify({ errorType: name, errorMessage: message, trace: [] }));
      reported.name = name;
      throw reported;
    }
  };
}

function toStep(log: EventLog): StateStep {
  const step: StateStep = { type: log.type, at: log.timestamp };
  if ('state' in log && log.state) step.state = log.state.name;
  if ('parentState' in log && log.parentState) step.state = log.parentState.name;
  if ('Error' in log) {
    step.error = log.Error;
    step.cause = stringify(log.Cause);
  }
  return step;
}

function stringify(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return out.QueueUrl ?? '';
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return out.Attributes?.QueueArn ?? '';
}

function ignore(name: string) {
  return (error: unknown) => {
    if ((error as { name?: string }).name !== name) throw error;
    return undefined;
  };
}
