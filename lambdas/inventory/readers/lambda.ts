/**
 * Lambda in one Region: functions changed since the exposure, function URLs anyone can call, and
 * resource-policy statements that let anyone invoke. A public URL on a function with a powerful role is
 * a way back in that survives the key's deactivation.
 *
 * The client is @aws-sdk/client-lambda; see the inventory report for whether package.json declares it.
 */
import {
  GetPolicyCommand,
  type LambdaClient,
  ListFunctionsCommand,
  ListFunctionUrlConfigsCommand,
} from '@aws-sdk/client-lambda';
import { lambdaFunctionCleanup, lambdaFunctionUrlCleanup, lambdaPermissionCleanup } from '../cleanup';
import type { ReaderResult } from '../types';
import {
  compact,
  isNew,
  iso,
  mapLimit,
  paginate,
  type ReaderContext,
  type ReaderRun,
  runReader,
} from './common';

export type LambdaClients = { lambda: LambdaClient };

/** Lambda's control plane allows about 15 reads per second per account and Region. */
const PER_FUNCTION_CONCURRENCY = 4;

/** Condition keys that tie a `*` principal to one source: such a statement is not open to everyone. */
const SCOPING_KEYS = new Set(
  [
    'aws:SourceArn',
    'aws:SourceAccount',
    'aws:SourceOrgID',
    'aws:PrincipalOrgID',
    'aws:PrincipalAccount',
    'aws:SourceOwner',
  ].map((k) => k.toLowerCase()),
);

export interface PublicStatement {
  sid: string;
  action: string[];
  /** Granted through a function URL with AuthType NONE (the statement Lambda adds for such a URL). */
  viaFunctionUrl: boolean;
}

/** Statements of a function's resource policy that let anyone invoke or manage it. */
export function publicStatements(policy: string | undefined): PublicStatement[] {
  if (!policy) return [];
  let parsed: { Statement?: unknown };
  try {
    parsed = JSON.parse(policy) as { Statement?: unknown };
  } catch {
    return [];
  }
  const statements = (Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement]) as {
    Sid?: string;
    Effect?: string;
    Principal?: unknown;
    Action?: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
  }[];
  const found: PublicStatement[] = [];
  for (const s of statements) {
    if (s?.Effect !== 'Allow') continue;
    const principal = s.Principal;
    const everyone =
      principal === '*' ||
      (typeof principal === 'object' &&
        principal !== null &&
        [(principal as { AWS?: unknown }).AWS].flat().includes('*'));
    if (!everyone) continue;
    const keys = Object.values(s.Condition ?? {}).flatMap((byKey) =>
      Object.keys(byKey ?? {}).map((k) => k.toLowerCase()),
    );
    if (keys.some((k) => SCOPING_KEYS.has(k))) continue;
    found.push({
      sid: s.Sid ?? '',
      action: [s.Action ?? []].flat(),
      viaFunctionUrl: keys.includes('lambda:functionurlauthtype'),
    });
  }
  return found;
}

/** Lambda writes `2024-05-01T10:00:00.000+0000`; the offset without a colon is not ISO 8601. */
const lambdaTime = (value: string | undefined) => iso(value?.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));

export async function readLambda(ctx: ReaderContext<LambdaClients>): Promise<ReaderResult> {
  const { clients } = ctx;
  return runReader('lambda', ctx, async (run) => {
    const functions: {
      name: string;
      arn?: string;
      lastModified?: string;
      runtime?: string;
      role?: string;
    }[] = [];
    await paginate(
      run,
      'lambda:ListFunctions',
      (Marker) => clients.lambda.send(new ListFunctionsCommand({ MaxItems: 50, Marker })),
      (page) => page.NextMarker,
      (page) => {
        for (const f of page.Functions ?? []) {
          if (f.FunctionName) {
            functions.push({
              name: f.FunctionName,
              arn: f.FunctionArn,
              lastModified: lambdaTime(f.LastModified),
              runtime: f.Runtime,
              role: f.Role,
            });
          }
        }
      },
    );
    await mapLimit(functions, PER_FUNCTION_CONCURRENCY, (f) => readFunction(run, ctx, f));
  });
}

async function readFunction(
  run: ReaderRun,
  ctx: ReaderContext<LambdaClients>,
  f: { name: string; arn?: string; lastModified?: string; runtime?: string; role?: string },
): Promise<void> {
  const { region, since, clients } = ctx;
  if (isNew(f.lastModified, since)) {
    run.items.push({
      service: 'lambda',
      type: 'function',
      id: f.name,
      arn: f.arn,
      region,
      // Lambda does not return a creation date; LastModified is never earlier, so "new" here means created
      // or changed since the exposure, and an older value proves the function predates it.
      createdAt: f.lastModified,
      createdByKey: 'unknown',
      ...lambdaFunctionCleanup(region, f.name),
      details: compact({ createdAtIsLastModified: true, runtime: f.runtime, role: f.role }),
    });
  }
  // URLs and policies are separate parts: a role allowed one but not the other still gets half the answer.
  await run.part('function URLs', () =>
    paginate(
      run,
      'lambda:ListFunctionUrlConfigs',
      (Marker) => clients.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: f.name, Marker })),
      (page) => page.NextMarker,
      (page) => {
        for (const url of page.FunctionUrlConfigs ?? []) {
          if (url.AuthType !== 'NONE') continue;
          // A URL on an alias has the alias as the last field of its function ARN.
          const qualifier = url.FunctionArn?.split(':')[7];
          run.items.push({
            service: 'lambda',
            type: 'function-url',
            id: qualifier ? `${f.name}:${qualifier}` : f.name,
            arn: url.FunctionArn,
            region,
            createdAt: lambdaTime(url.CreationTime),
            createdByKey: 'unknown',
            ...lambdaFunctionUrlCleanup(region, f.name, qualifier),
            details: compact({ url: url.FunctionUrl, authType: url.AuthType }),
          });
        }
      },
    ),
  );
  await run.part('function policies', () => readPolicy(run, ctx, f));
}

async function readPolicy(
  run: ReaderRun,
  ctx: ReaderContext<LambdaClients>,
  f: { name: string; arn?: string },
): Promise<void> {
  const { region, clients } = ctx;
  const policy = await run.call('lambda:GetPolicy', () =>
    clients.lambda.send(new GetPolicyCommand({ FunctionName: f.name })).catch((error: unknown) => {
      // A function without a resource policy answers ResourceNotFoundException.
      if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }),
  );
  for (const statement of publicStatements(policy?.Policy)) {
    run.items.push({
      service: 'lambda',
      type: 'function-permission',
      id: `${f.name}/${statement.sid}`,
      arn: f.arn,
      region,
      // Statements are not dated; attribution relies on the key's AddPermission calls.
      createdByKey: 'unknown',
      ...lambdaPermissionCleanup(region, f.name, statement.sid),
      details: compact({
        functionName: f.name,
        statementId: statement.sid,
        action: statement.action,
        viaFunctionUrl: statement.viaFunctionUrl,
      }),
    });
  }
}
