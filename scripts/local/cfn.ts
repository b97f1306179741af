/**
 * Just enough of CloudFormation's intrinsic functions to turn the synthesized template's
 * tokens (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select) into the values the emulated account has.
 */

export interface PhysicalResource {
  ref: string;
  attributes?: Record<string, string>;
}

export interface ResolveScope {
  resources: Record<string, PhysicalResource>;
  accountId: string;
  region: string;
  stackName: string;
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

export function resolve(value: unknown, scope: ResolveScope): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, scope));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [fn, arg] = entries[0];
    switch (fn) {
      case 'Ref':
        return ref(String(arg), scope);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return getAtt(String(id), String(attribute), scope);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (resolve(parts, scope) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number, unknown];
        return (resolve(list, scope) as unknown[])[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return String(resolve(source, scope)).split(separator);
      }
      case 'Fn::Sub': {
        const [text, vars] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, Record<string, unknown>];
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name in vars) return String(resolve(vars[name], scope));
          return name.includes('.')
            ? getAtt(name.split('.')[0], name.split('.')[1], scope)
            : ref(name, scope);
        });
      }
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, scope)]));
}

function ref(id: string, scope: ResolveScope): string {
  switch (id) {
    case 'AWS::AccountId':
      return scope.accountId;
    case 'AWS::Region':
      return scope.region;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return scope.stackName;
  }
  const resource = scope.resources[id];
  if (!resource) throw new Error(`The local account has no resource for Ref ${id}: provision it first.`);
  return resource.ref;
}

function getAtt(id: string, attribute: string, scope: ResolveScope): string {
  const value = scope.resources[id]?.attributes?.[attribute];
  if (value === undefined)
    throw new Error(`The local account has no ${attribute} for ${id}: provision it first.`);
  return value;
}

export function resourcesOfType(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}
