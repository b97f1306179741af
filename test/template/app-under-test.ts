/**
 * Builds the app the way bin/app.ts does, for template tests.
 *
 * - `aws:cdk:bundling-stacks: []` skips esbuild (test/template/bundling.test.ts bundles for real).
 * - `builtinCloudFormationValidation: false` skips the CloudFormation schema check, which costs ~8 s on
 *   the first synth of every test file and only warns; the bundling test keeps it on.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type ResponderApp } from '../../lib/app';

export const ACCOUNT = '123456789012';

export type Context = Record<string, unknown>;

export function synthApp(context: Context = {}, account: string | undefined = ACCOUNT): ResponderApp {
  return buildApp(
    { context: { 'aws:cdk:bundling-stacks': [], ...context }, builtinCloudFormationValidation: false },
    account,
  );
}

export interface Templates {
  built: ResponderApp;
  primary: Template;
  backup?: Template;
}

const cache = new Map<string, Templates>();

/** One synth per distinct context and test file: templates are read-only, so tests can share them. */
export function templatesFor(context: Context = {}): Templates {
  const key = JSON.stringify(context);
  let templates = cache.get(key);
  if (!templates) {
    const built = synthApp(context);
    templates = {
      built,
      primary: Template.fromStack(built.primary),
      backup: built.backup ? Template.fromStack(built.backup) : undefined,
    };
    cache.set(key, templates);
  }
  return templates;
}

/** A CloudFormation value with its references written as placeholders: `<AWS::AccountId>`, `<Logical.Arn>`. */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join(',');
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ('Ref' in object) return `<${String(object.Ref)}>`;
    if ('Fn::GetAtt' in object) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    if ('Fn::Sub' in object) return String(object['Fn::Sub']);
  }
  return JSON.stringify(value);
}

export interface PolicyStatementJson {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  NotAction?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

export const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every identity policy in a template: AWS::IAM::Policy, managed policies, inline role policies. */
export function identityStatements(template: Template): { source: string; statement: PolicyStatementJson }[] {
  const found: { source: string; statement: PolicyStatementJson }[] = [];
  const documents: [string, { Statement: PolicyStatementJson[] } | undefined][] = [];
  for (const [id, resource] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    documents.push([id, resource.Properties.PolicyDocument]);
  }
  for (const [id, resource] of Object.entries(template.findResources('AWS::IAM::ManagedPolicy'))) {
    documents.push([id, resource.Properties.PolicyDocument]);
  }
  for (const [id, resource] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const inline of resource.Properties.Policies ?? [])
      documents.push([`${id}/${inline.PolicyName}`, inline.PolicyDocument]);
  }
  for (const [source, document] of documents) {
    for (const statement of document?.Statement ?? []) found.push({ source, statement });
  }
  return found;
}

/** IAM actions that change something: everything but reads (Get, List, Simulate), plus any wildcard. */
export function isIamWrite(action: string): boolean {
  if (action === '*') return true;
  const lower = action.toLowerCase(); // IAM action names are case-insensitive
  return lower.startsWith('iam:') && !/^iam:(get|list|simulate)/.test(lower);
}

/** The Fn::Join'ed DefinitionString of the (only) state machine, parsed, with ARNs as `<Logical.Arn>`. */
export function stateMachineDefinition(template: Template): { definition: StateMachineJson; text: string } {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const text = flatten(machines[0].Properties.DefinitionString);
  return { definition: JSON.parse(text) as StateMachineJson, text };
}

export interface StateJson {
  Type: string;
  Comment?: string;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  ItemProcessor?: StateMachineJson;
  [field: string]: unknown;
}

export interface StateMachineJson {
  StartAt: string;
  States: Record<string, StateJson>;
  QueryLanguage?: string;
  [field: string]: unknown;
}

/** Every state, including those inside Map item processors. */
export function allStates(machine: StateMachineJson): [string, StateJson][] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    [name, state] as [string, StateJson],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor) : []),
  ]);
}
