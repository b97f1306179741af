/**
 * IAM, read once per account (it is global): users, their access keys and console passwords, roles that
 * outsiders can assume, customer managed policies and policy versions, and identity providers.
 *
 * One paginated GetAccountAuthorizationDetails gives every user, group, role and customer managed policy
 * with their attachments and versions, instead of a List/Get pair per entity; only access keys and login
 * profiles need a call per user.
 */
import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsResponse,
  GetLoginProfileCommand,
  GetOpenIDConnectProviderCommand,
  type GroupDetail,
  type IAMClient,
  ListAccessKeysCommand,
  ListOpenIDConnectProvidersCommand,
  ListSAMLProvidersCommand,
  type ManagedPolicyDetail,
  type RoleDetail,
  type UserDetail,
} from '@aws-sdk/client-iam';
import {
  iamAccessKeyCleanup,
  iamLoginProfileCleanup,
  iamOidcProviderCleanup,
  iamPolicyCleanup,
  iamPolicyVersionCleanup,
  iamRoleCleanup,
  iamSamlProviderCleanup,
  iamUserCleanup,
} from '../cleanup';
import { GLOBAL_REGION, IAM_HOME_REGION, type ReaderResult } from '../types';
import {
  compact,
  isNew,
  iso,
  mapLimit,
  paginate,
  type ReaderContext,
  type ReaderRun,
  runReader,
  skipped,
} from './common';

export type IamClients = { iam: IAMClient };

/** IAM throttles reads at a few dozen per second per account: per-user calls stay modest. */
const PER_USER_CONCURRENCY = 8;

export async function readIam(ctx: ReaderContext<IamClients>): Promise<ReaderResult> {
  if (ctx.region !== IAM_HOME_REGION) {
    return skipped('iam', ctx.region, `IAM is global: it is read once, in ${IAM_HOME_REGION}`);
  }
  return runReader('iam', ctx, async (run) => {
    const details: Required<
      Pick<
        GetAccountAuthorizationDetailsResponse,
        'UserDetailList' | 'GroupDetailList' | 'RoleDetailList' | 'Policies'
      >
    > = {
      UserDetailList: [],
      GroupDetailList: [],
      RoleDetailList: [],
      Policies: [],
    };
    await run.part('authorization details', () =>
      paginate(
        run,
        'iam:GetAccountAuthorizationDetails',
        (Marker) =>
          ctx.clients.iam.send(
            new GetAccountAuthorizationDetailsCommand({
              Filter: ['User', 'Group', 'Role', 'LocalManagedPolicy'],
              MaxItems: 1000,
              Marker,
            }),
          ),
        (page) => (page.IsTruncated ? page.Marker : undefined),
        (page) => {
          details.UserDetailList.push(...(page.UserDetailList ?? []));
          details.GroupDetailList.push(...(page.GroupDetailList ?? []));
          details.RoleDetailList.push(...(page.RoleDetailList ?? []));
          details.Policies.push(...(page.Policies ?? []));
        },
      ),
    );
    await run.part('users', () => readUsers(run, ctx, details.UserDetailList));
    await run.part('roles', async () => readRoles(run, ctx, details.RoleDetailList));
    await run.part('policies', async () => readPolicies(run, ctx, details));
    await run.part('identity providers', () => readProviders(run, ctx));
  });
}

type Attaching = { AttachedManagedPolicies?: { PolicyArn?: string }[] };
const attachedArns = (entity: Attaching) =>
  (entity.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn).filter((a): a is string => Boolean(a));
const inlineNames = (list: { PolicyName?: string }[] | undefined) =>
  (list ?? []).map((p) => p.PolicyName).filter((n): n is string => Boolean(n));

async function readUsers(run: ReaderRun, ctx: ReaderContext<IamClients>, users: UserDetail[]): Promise<void> {
  const { since, clients } = ctx;
  // Every user is asked: a backdoor key or password on an old user is the usual persistence. Keys and
  // passwords are listed whatever their age, because the key can also re-enable an old key
  // (UpdateAccessKey) or reset an old password (UpdateLoginProfile); attribution drops the untouched old
  // ones. Users themselves are listed when new: no call of the key changes an old user in a way the
  // inventory tracks (the Analyze step reports AttachUserPolicy and the like).
  await mapLimit(
    users.filter((u) => u.UserName),
    PER_USER_CONCURRENCY,
    async (user) => {
      const userName = user.UserName as string;
      const keys: { id: string; status?: string; createdAt?: string }[] = [];
      await paginate(
        run,
        'iam:ListAccessKeys',
        (Marker) => clients.iam.send(new ListAccessKeysCommand({ UserName: userName, Marker })),
        (page) => (page.IsTruncated ? page.Marker : undefined),
        (page) => {
          for (const k of page.AccessKeyMetadata ?? []) {
            if (k.AccessKeyId)
              keys.push({ id: k.AccessKeyId, status: k.Status, createdAt: iso(k.CreateDate) });
          }
        },
      );
      const profile = await run.call('iam:GetLoginProfile', () =>
        clients.iam.send(new GetLoginProfileCommand({ UserName: userName })).catch((error: unknown) => {
          // No console password is the normal case, and IAM says so with an error.
          if ((error as { name?: string }).name === 'NoSuchEntityException') return undefined;
          throw error;
        }),
      );
      const loginProfile = profile?.LoginProfile;

      for (const key of keys) {
        run.items.push({
          service: 'iam',
          type: 'access-key',
          id: key.id,
          region: GLOBAL_REGION,
          createdAt: key.createdAt,
          createdByKey: 'unknown',
          ...iamAccessKeyCleanup(userName, key.id),
          details: compact({ userName, status: key.status }),
        });
      }
      if (loginProfile) {
        run.items.push({
          service: 'iam',
          type: 'login-profile',
          id: userName,
          region: GLOBAL_REGION,
          createdAt: iso(loginProfile.CreateDate),
          createdByKey: 'unknown',
          ...iamLoginProfileCleanup(userName),
          details: compact({ passwordResetRequired: loginProfile.PasswordResetRequired }),
        });
      }
      if (isNew(user.CreateDate, since)) {
        const state = {
          accessKeyIds: keys.map((k) => k.id),
          hasLoginProfile: loginProfile !== undefined,
          attachedPolicyArns: attachedArns(user),
          inlinePolicyNames: inlineNames(user.UserPolicyList),
          groups: user.GroupList ?? [],
        };
        run.items.push({
          service: 'iam',
          type: 'user',
          id: userName,
          arn: user.Arn,
          region: GLOBAL_REGION,
          createdAt: iso(user.CreateDate),
          createdByKey: 'unknown',
          ...iamUserCleanup(userName, state),
          details: compact({
            ...state,
            path: user.Path,
            permissionsBoundary: user.PermissionsBoundary?.PermissionsBoundaryArn,
          }),
        });
      }
    },
  );
}

/** A principal a trust policy lets in from outside the account. */
export interface ExternalTrust {
  principal: string;
  why: 'everyone' | 'other-account' | 'federated' | 'everyone-except';
  /** Condition keys of the statement: a person judges whether they really narrow it (sts:ExternalId, aws:PrincipalOrgID...). */
  conditionKeys: string[];
}

interface Statement {
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Parses a policy document as IAM returns it: URL-encoded JSON from GetAccountAuthorizationDetails and ListRoles. */
export function parsePolicyDocument(
  document: string | undefined,
): { Statement?: Statement | Statement[] } | undefined {
  if (!document) return undefined;
  for (const text of [document, safeDecode(document)]) {
    if (text === undefined) continue;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object') return parsed as { Statement?: Statement | Statement[] };
    } catch {
      // try the decoded form next
    }
  }
  return undefined;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The account an AWS principal belongs to: a bare 12-digit id, or the account field of an IAM or STS ARN. */
function principalAccount(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  return /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1];
}

const asList = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');

/**
 * Who outside `accountId` the trust policy allows to assume the role: `*`, principals of other accounts,
 * and federated identities (an OIDC or SAML provider, Cognito, web identity), which are outsiders by
 * design. AWS service principals are not outsiders. Deny statements are ignored: they only narrow.
 */
export function externalTrust(document: string | undefined, accountId: string): ExternalTrust[] {
  const policy = parsePolicyDocument(document);
  if (!policy?.Statement) return [];
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const found: ExternalTrust[] = [];
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue;
    const conditionKeys = Object.values(s.Condition ?? {}).flatMap((byKey) => Object.keys(byKey ?? {}));
    if (s.NotPrincipal !== undefined) {
      // Allow with NotPrincipal allows everyone but the few named.
      found.push({ principal: JSON.stringify(s.NotPrincipal), why: 'everyone-except', conditionKeys });
      continue;
    }
    const principal = s.Principal;
    if (principal === '*') {
      found.push({ principal: '*', why: 'everyone', conditionKeys });
      continue;
    }
    if (!principal || typeof principal !== 'object') continue;
    const byType = principal as Record<string, unknown>;
    for (const p of asList(byType.AWS)) {
      if (p === '*') found.push({ principal: p, why: 'everyone', conditionKeys });
      else {
        const account = principalAccount(p);
        if (account !== undefined && account !== accountId)
          found.push({ principal: p, why: 'other-account', conditionKeys });
      }
    }
    for (const p of asList(byType.Federated)) found.push({ principal: p, why: 'federated', conditionKeys });
  }
  return found;
}

function readRoles(run: ReaderRun, ctx: ReaderContext<IamClients>, roles: RoleDetail[]): void {
  for (const role of roles) {
    if (!role.RoleName) continue;
    const external = externalTrust(role.AssumeRolePolicyDocument, ctx.accountId);
    // Service-linked roles are made by AWS when a service is first used (the attacker's Spot request makes
    // AWSServiceRoleForEC2Spot): listing them as new would only add noise, and they cannot be misused.
    const serviceLinked = (role.Path ?? '').startsWith('/aws-service-role/');
    const newRole = !serviceLinked && isNew(role.CreateDate, ctx.since);
    if (external.length === 0 && !newRole) continue;
    const state = {
      attachedPolicyArns: attachedArns(role),
      inlinePolicyNames: inlineNames(role.RolePolicyList),
      instanceProfiles: (role.InstanceProfileList ?? [])
        .map((p) => p.InstanceProfileName)
        .filter((n): n is string => Boolean(n)),
    };
    run.items.push({
      service: 'iam',
      type: 'role',
      id: role.RoleName,
      arn: role.Arn,
      region: GLOBAL_REGION,
      createdAt: iso(role.CreateDate),
      createdByKey: 'unknown',
      ...iamRoleCleanup(role.RoleName, state),
      details: compact({
        externalTrust: external,
        ...state,
        path: role.Path,
        lastUsed: iso(role.RoleLastUsed?.LastUsedDate),
      }),
    });
  }
}

function readPolicies(
  run: ReaderRun,
  ctx: ReaderContext<IamClients>,
  d: {
    UserDetailList: UserDetail[];
    GroupDetailList: GroupDetail[];
    RoleDetailList: RoleDetail[];
    Policies: ManagedPolicyDetail[];
  },
): void {
  const attachedTo = (arn: string) => {
    const names = <T extends Attaching>(entities: T[], name: (e: T) => string | undefined) =>
      entities
        .filter((e) => attachedArns(e).includes(arn))
        .map(name)
        .filter((n): n is string => Boolean(n));
    return {
      users: names(d.UserDetailList, (u) => u.UserName),
      roles: names(d.RoleDetailList, (r) => r.RoleName),
      groups: names(d.GroupDetailList, (g) => g.GroupName),
    };
  };

  for (const policy of d.Policies) {
    const arn = policy.Arn;
    if (!arn || !policy.PolicyName) continue;
    const versions = [...(policy.PolicyVersionList ?? [])].sort(
      (a, b) => versionNumber(a.VersionId) - versionNumber(b.VersionId),
    );
    if (isNew(policy.CreateDate, ctx.since)) {
      const state = {
        ...attachedTo(arn),
        nonDefaultVersionIds: versions
          .filter((v) => !v.IsDefaultVersion && v.VersionId)
          .map((v) => v.VersionId as string),
      };
      run.items.push({
        service: 'iam',
        type: 'policy',
        id: policy.PolicyName,
        arn,
        region: GLOBAL_REGION,
        createdAt: iso(policy.CreateDate),
        createdByKey: 'unknown',
        ...iamPolicyCleanup(arn, state),
        details: compact({
          ...state,
          defaultVersionId: policy.DefaultVersionId,
          attachmentCount: policy.AttachmentCount,
        }),
      });
      // A new policy's versions come with it; listing them again would only repeat the policy.
      continue;
    }
    // On an old policy, a new version (often made the default) is how a key widens rights it already has.
    versions.forEach((version, index) => {
      if (!version.VersionId || version.VersionId === 'v1' || !isNew(version.CreateDate, ctx.since)) return;
      const previous = versions
        .slice(0, index)
        .reverse()
        .find((v) => v.VersionId)?.VersionId;
      run.items.push({
        service: 'iam',
        type: 'policy-version',
        id: `${policy.PolicyName}:${version.VersionId}`,
        arn,
        region: GLOBAL_REGION,
        createdAt: iso(version.CreateDate),
        createdByKey: 'unknown',
        ...iamPolicyVersionCleanup(arn, version.VersionId, version.IsDefaultVersion === true, previous),
        details: compact({
          policyName: policy.PolicyName,
          versionId: version.VersionId,
          isDefault: version.IsDefaultVersion === true,
          previousVersionId: previous,
          document: parsePolicyDocument(version.Document),
        }),
      });
    });
  }
}

const versionNumber = (id: string | undefined) => Number(/^v(\d+)$/.exec(id ?? '')?.[1] ?? 0);

async function readProviders(run: ReaderRun, ctx: ReaderContext<IamClients>): Promise<void> {
  const { since, clients } = ctx;
  // Neither list is paginated: an account holds at most 100 of each.
  const oidc = await run.call('iam:ListOpenIDConnectProviders', () =>
    clients.iam.send(new ListOpenIDConnectProvidersCommand({})),
  );
  await mapLimit(
    (oidc.OpenIDConnectProviderList ?? []).map((p) => p.Arn).filter((a): a is string => Boolean(a)),
    PER_USER_CONCURRENCY,
    async (arn) => {
      const provider = await run.optional('iam:GetOpenIDConnectProvider', () =>
        clients.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
      );
      if (provider && !isNew(provider.CreateDate, since)) return;
      run.items.push({
        service: 'iam',
        type: 'oidc-provider',
        id: arn,
        arn,
        region: GLOBAL_REGION,
        createdAt: iso(provider?.CreateDate),
        createdByKey: 'unknown',
        ...iamOidcProviderCleanup(arn),
        details: compact({ url: provider?.Url, clientIds: provider?.ClientIDList }),
      });
    },
  );
  const saml = await run.call('iam:ListSAMLProviders', () =>
    clients.iam.send(new ListSAMLProvidersCommand({})),
  );
  for (const provider of saml.SAMLProviderList ?? []) {
    if (!provider.Arn || !isNew(provider.CreateDate, since)) continue;
    run.items.push({
      service: 'iam',
      type: 'saml-provider',
      id: provider.Arn,
      arn: provider.Arn,
      region: GLOBAL_REGION,
      createdAt: iso(provider.CreateDate),
      createdByKey: 'unknown',
      ...iamSamlProviderCleanup(provider.Arn),
      details: compact({ validUntil: iso(provider.ValidUntil) }),
    });
  }
}
