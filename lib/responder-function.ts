import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Modules the SDK's default credential chain imports only when environment credentials are missing. */
const LAZY_CREDENTIAL_FALLBACKS = [
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/token-providers',
  '@aws-sdk/nested-clients',
];

export interface ResponderFunctionProps {
  /** The folder under lambdas/ that holds the step's handler.ts. */
  readonly step: string;
  readonly description: string;
  /** Variables the step reads through lambdas/shared/env.ts. @default none */
  readonly environment?: Record<string, string>;
  /** @default 60 seconds */
  readonly timeout?: Duration;
  /** @default 256 MB */
  readonly memorySize?: number;
  /** @default one year */
  readonly logRetention?: logs.RetentionDays;
  /**
   * `bundled`: the pinned SDK inside the bundle (faster cold start, for the containment path).
   * `runtime`: the SDK the Lambda runtime provides (smaller bundle, for the investigation steps,
   * whose EC2 and S3 clients would push a bundle far past 500 KB and whose latency matters less).
   * @default bundled
   */
  readonly awsSdk?: 'bundled' | 'runtime';
}

/**
 * The one place that sets how every Lambda of the responder is built and run: newest Node.js
 * runtime, arm64, esbuild bundling (a devDependency, so synth needs no Docker), X-Ray tracing,
 * its own log group with retention, and its own role that starts with nothing but its logs.
 */
export class ResponderFunction extends nodejs.NodejsFunction {
  /** The TypeScript entry, so the local runner can call the same code the bundle contains. */
  public readonly entryFile: string;
  public readonly step: string;
  /** The function's own role (never shared), where its permissions and their nag acknowledgements go. */
  public readonly executionRole: iam.Role;

  constructor(scope: Construct, id: string, props: ResponderFunctionProps) {
    const entry = path.join(__dirname, '..', 'lambdas', props.step, 'handler.ts');
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      // Logs are evidence of what the responder did: keep them when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A role of its own instead of AWSLambdaBasicExecutionRole, whose logs grant covers every log group.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `exposed-key-responder ${props.step} step`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${logGroup.logGroupArn}:log-stream:*`, logGroup.logGroupArn],
      }),
    );

    super(scope, id, {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'exposed-key-responder',
        POWERTOOLS_METRICS_NAMESPACE: 'ExposedKeyResponder',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        // The SDK is bundled, not taken from the runtime: the responder runs the SDK version it was
        // tested with, and one minified file loads faster than the runtime's hundreds (~100 ms vs ~200 ms
        // measured by `npm run bench`). Left out: the credential chain's fallbacks (SSO, INI files,
        // web identity, ...), which the SDK imports lazily and never reaches in Lambda, where credentials
        // come from the environment; the runtime still has them if it ever did.
        externalModules: props.awsSdk === 'runtime' ? ['@aws-sdk/*'] : LAZY_CREDENTIAL_FALLBACKS,
        // Prefer packages' ES module builds: esbuild tree-shakes them (zod/mini shrinks from ~420 KB to ~20 KB).
        mainFields: ['module', 'main'],
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
      },
    });
    this.entryFile = entry;
    this.step = props.step;
    this.executionRole = role;

    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id:
          'AwsSolutions-IAM5[Resource::<' +
          Stack.of(this).getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup) +
          '.Arn>:log-stream:*]',
        reason:
          "Log streams are created by Lambda at run time with generated names; the grant is limited to this function's own log group.",
      });
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions (Tracing.ACTIVE adds them).',
      });
    }
  }
}
