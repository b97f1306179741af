/**
 * The rule catalog: one reviewed table that says what a CloudTrail call means when a leaked key made it.
 *
 * How to read an entry: `source` + `names` select the call (Lambda's date suffixes such as
 * `20150331v2` are stripped before matching); `when`, if present, is a named condition on its
 * parameters. For one call, every entry whose condition holds yields a finding; an entry without
 * `when` is the call's fallback and applies only when no conditional entry of that call matched.
 * Conditions of one call are written to be mutually exclusive (public vs. another account, admin vs.
 * any policy), so a record gets one finding per distinct meaning.
 *
 * Severity is for a successful call by the attacker. The analyzer lowers it one step for failed
 * calls (attempts), caps AWS's own calls at `low` and turns the responder's calls into `containment`.
 * Techniques are MITRE ATT&CK Enterprise ids (cloud matrix, v17).
 */
import type { Category, CloudTrailRecord, Severity } from './types';

/** What a condition sees: the record, its request and response (never null), and its account. */
export interface MatchContext {
  record: CloudTrailRecord;
  params: Record<string, unknown>;
  response: Record<string, unknown>;
  /** The account the call was made in (`recipientAccountId`, else the caller's). */
  accountId?: string;
}

export type Condition = (ctx: MatchContext) => boolean;

export interface Rule {
  /** Stable id, kebab-case, `service-meaning`. */
  id: string;
  source: string | readonly string[];
  names: readonly string[];
  when?: Condition;
  category: Category;
  severity: Severity;
  technique: string;
  why: string;
  todo: string;
}

// ---------------------------------------------------------------------------------------------
// Small readers over request parameters. CloudTrail shapes vary by service and API version:
// EC2 wraps lists as `{ items: [...] }`, S3 keeps XML casing, policies arrive as objects or strings.
// ---------------------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a nested value; keys are tried case-sensitively. */
export function dig(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** A list as CloudTrail writes it: a plain array, EC2's `{ items: [...] }`, or a single value. */
export function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value;
  if (isObject(value) && Array.isArray(value.items)) return value.items;
  return [value];
}

function strings(value: unknown): string[] {
  return listOf(value).filter((v): v is string => typeof v === 'string');
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true' || (isObject(value) && isTrue(value.value));
}

function isFalse(value: unknown): boolean {
  return value === false || value === 'false' || (isObject(value) && isFalse(value.value));
}

/** A policy document from an object, a JSON string, or a URL-encoded JSON string. */
export function parsePolicy(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  for (const text of [value, safeDecode(value)]) {
    if (text === undefined) continue;
    try {
      const parsed: unknown = JSON.parse(text);
      if (isObject(parsed)) return parsed;
    } catch {
      // try the next form
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

function statementsOf(policy: Record<string, unknown> | undefined): Record<string, unknown>[] {
  return listOf(policy?.Statement).filter(isObject);
}

const ACCOUNT_IN_PRINCIPAL = /^(\d{12})$|^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/;

/**
 * Condition keys that tie a `*` principal to the owner's organization or network. A bare `aws:SourceIp`
 * does not: an attacker opening a bucket to their own address is exactly the risk. `sts:ExternalId`
 * does not either: whoever wrote the policy chose it. (An organization id cannot be checked against
 * the record, so an attacker's own organization would pass; it is rare and still a policy change.)
 */
const ORG_OR_NETWORK_KEYS = new Set([
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'kms:viaservice',
]);

/** Condition keys whose values name accounts or ARNs: they restrict only when they name the owner's account. */
const ACCOUNT_KEYS = new Set([
  'aws:principalaccount',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:sourcearn',
  'aws:principalarn',
  'kms:calleraccount',
]);

function namesOnlyOwnAccount(values: unknown, ownAccount: string | undefined): boolean {
  const list = strings(values);
  if (list.length === 0 || ownAccount === undefined) return false;
  return list.every((value) => {
    const accounts = value.match(/\d{12}/g) ?? [];
    return accounts.length > 0 && accounts.every((account) => account === ownAccount);
  });
}

function hasRestrictingCondition(
  statement: Record<string, unknown>,
  ownAccount: string | undefined,
): boolean {
  const condition = statement.Condition;
  if (!isObject(condition)) return false;
  return Object.values(condition).some(
    (operands) =>
      isObject(operands) &&
      Object.entries(operands).some(([key, values]) => {
        const name = key.toLowerCase();
        return (
          ORG_OR_NETWORK_KEYS.has(name) || (ACCOUNT_KEYS.has(name) && namesOnlyOwnAccount(values, ownAccount))
        );
      }),
  );
}

export type PolicyReach = 'public' | 'other-account' | 'contained';

/**
 * Who an Allow statement of a resource or trust policy lets in: anyone (`*` without a restricting
 * condition), another account, or only the owner's account and AWS services.
 */
export function policyReach(policy: Record<string, unknown> | undefined, ownAccount?: string): PolicyReach {
  let reach: PolicyReach = 'contained';
  for (const statement of statementsOf(policy)) {
    if (statement.Effect !== 'Allow') continue;
    const restricted = hasRestrictingCondition(statement, ownAccount);
    // Allow with NotPrincipal lets in everyone but the few named.
    if (statement.NotPrincipal !== undefined && !restricted) return 'public';
    const principal = statement.Principal;
    const awsPrincipals = principal === '*' ? ['*'] : strings(dig(principal, 'AWS'));
    for (const value of awsPrincipals) {
      if (value === '*' || value.startsWith('arn:aws:iam::*:')) {
        if (!restricted) return 'public';
        continue;
      }
      const match = ACCOUNT_IN_PRINCIPAL.exec(value);
      const account = match?.[1] ?? match?.[2];
      if (account && ownAccount && account !== ownAccount) reach = 'other-account';
    }
  }
  return reach;
}

// ---------------------------------------------------------------------------------------------
// Named conditions. Each reads one meaning out of the parameters; the catalog below composes them.
// ---------------------------------------------------------------------------------------------

/** AWS's quarantine policies and the responder's own revoke-sessions deny. */
const CONTAINMENT_POLICY =
  /AWSCompromisedKeyQuarantine|AWSExposedCredentialPolicy|AWSRevokeOlderSessions|ExposedKeyResponder/;

/** Managed policies that amount to administrator: full access, or the right to grant it. */
const ADMIN_POLICIES = [
  'AdministratorAccess',
  'IAMFullAccess',
  'PowerUserAccess',
  'AdministratorAccess-Amplify',
  'AdministratorAccess-AWSElasticBeanstalk',
];

export const touchesContainmentPolicy: Condition = ({ params }) =>
  CONTAINMENT_POLICY.test(String(params.policyArn ?? params.policyName ?? ''));

/** The quarantine policy attached, or the responder's inline deny written (only Deny statements). */
export const writesContainmentPolicy: Condition = (ctx) =>
  touchesContainmentPolicy(ctx) && (ctx.params.policyDocument === undefined || inlinePolicyOnlyDenies(ctx));

export const attachesAdminPolicy: Condition = ({ params }) => {
  const arn = String(params.policyArn ?? '');
  return ADMIN_POLICIES.some((name) => arn.endsWith(`:policy/${name}`));
};

function grantsEverything(statement: Record<string, unknown>): boolean {
  if (statement.Effect !== 'Allow') return false;
  const actions = strings(statement.Action);
  const broadAction =
    statement.NotAction !== undefined || actions.some((a) => a === '*' || a === '*:*' || a === 'iam:*');
  const resources = strings(statement.Resource);
  const broadResource = statement.NotResource !== undefined || resources.includes('*');
  return broadAction && broadResource;
}

/** An identity policy that allows `*` (or `iam:*`, which can grant `*`) on every resource. */
export const inlinePolicyGrantsAll: Condition = ({ params }) =>
  statementsOf(parsePolicy(params.policyDocument)).some(grantsEverything);

export const inlinePolicyOnlyDenies: Condition = ({ params }) => {
  const statements = statementsOf(parsePolicy(params.policyDocument));
  return statements.length > 0 && statements.every((s) => s.Effect === 'Deny');
};

/** A role trust policy that anyone, or another account, can assume. */
export const trustOpensRole: Condition = ({ params, accountId }) => {
  const document = params.assumeRolePolicyDocument ?? params.policyDocument;
  return policyReach(parsePolicy(document), accountId) !== 'contained';
};

export const createsKeyForAnotherUser: Condition = ({ params, record }) => {
  const target = params.userName;
  return typeof target === 'string' && target !== '' && target !== record.userIdentity?.userName;
};

export const activatesKey: Condition = ({ params }) => params.status === 'Active';
export const deactivatesKey: Condition = ({ params }) => params.status === 'Inactive';

const WORLD = new Set(['0.0.0.0/0', '::/0']);

/** Security-group ingress (EC2 or classic RDS) from the whole internet. */
export const opensIngressToWorld: Condition = ({ params }) => {
  if (WORLD.has(String(params.cidrIp ?? params.cIDRIP ?? ''))) return true;
  return listOf(params.ipPermissions).some(
    (permission) =>
      listOf(dig(permission, 'ipRanges')).some((r) => WORLD.has(String(dig(r, 'cidrIp')))) ||
      listOf(dig(permission, 'ipv6Ranges')).some((r) => WORLD.has(String(dig(r, 'cidrIpv6')))),
  );
};

export const permissiveNaclEntry: Condition = ({ params }) =>
  params.ruleAction === 'allow' &&
  !isTrue(params.egress) &&
  (WORLD.has(String(params.cidrBlock ?? '')) || WORLD.has(String(params.ipv6CidrBlock ?? '')));

function permissionAdds(params: Record<string, unknown>, attribute: string): unknown[] {
  return listOf(dig(params, attribute, 'add'));
}

const sharesWith =
  (attribute: string, publicly: boolean): Condition =>
  ({ params }) => {
    const added = permissionAdds(params, attribute);
    const isPublic = added.some((item) => dig(item, 'group') === 'all');
    const toAccounts = added.some((item) => typeof dig(item, 'userId') === 'string');
    return publicly ? isPublic : !isPublic && toAccounts;
  };

export const snapshotMadePublic = sharesWith('createVolumePermission', true);
export const snapshotSharedWithAccount = sharesWith('createVolumePermission', false);
export const imageMadePublic = sharesWith('launchPermission', true);
export const imageSharedWithAccount = sharesWith('launchPermission', false);

const rdsSnapshotShare =
  (publicly: boolean): Condition =>
  ({ params }) => {
    if (params.attributeName !== 'restore') return false;
    const added = strings(params.valuesToAdd);
    return publicly ? added.includes('all') : added.length > 0 && !added.includes('all');
  };

export const rdsSnapshotMadePublic = rdsSnapshotShare(true);
export const rdsSnapshotSharedWithAccount = rdsSnapshotShare(false);

/** A resource policy found under any of the parameter names services use for it. */
function resourcePolicyOf(params: Record<string, unknown>): Record<string, unknown> | undefined {
  const candidates = [
    params.bucketPolicy,
    params.resourcePolicy,
    params.policy,
    params.policyText,
    params.accessPolicies,
    dig(params, 'attributes', 'Policy'),
    params.attributeName === 'Policy' ? params.attributeValue : undefined,
  ];
  for (const candidate of candidates) {
    const parsed = parsePolicy(candidate);
    if (parsed) return parsed;
  }
  return undefined;
}

export const resourcePolicyPublic: Condition = ({ params, accountId }) =>
  policyReach(resourcePolicyOf(params), accountId) === 'public';

export const resourcePolicyOtherAccount: Condition = ({ params, accountId }) =>
  policyReach(resourcePolicyOf(params), accountId) === 'other-account';

const PUBLIC_GRANTEES = /AllUsers|AuthenticatedUsers/;
const PUBLIC_CANNED_ACLS = new Set(['public-read', 'public-read-write', 'authenticated-read']);

export const aclGrantsPublic: Condition = ({ params }) => {
  if (strings(params['x-amz-acl']).some((acl) => PUBLIC_CANNED_ACLS.has(acl))) return true;
  const grants = listOf(dig(params, 'AccessControlPolicy', 'AccessControlList', 'Grant'));
  return grants.some((grant) => PUBLIC_GRANTEES.test(String(dig(grant, 'Grantee', 'URI') ?? '')));
};

const PUBLIC_ACCESS_BLOCK_FLAGS = [
  'BlockPublicAcls',
  'IgnorePublicAcls',
  'BlockPublicPolicy',
  'RestrictPublicBuckets',
];

export const disablesPublicAccessBlock: Condition = ({ params }) => {
  const config = dig(params, 'PublicAccessBlockConfiguration') ?? dig(params, 'publicAccessBlock');
  return PUBLIC_ACCESS_BLOCK_FLAGS.some((flag) => isFalse(dig(config, flag)));
};

export const versioningSuspended: Condition = ({ params }) => {
  const status = dig(params, 'VersioningConfiguration', 'Status');
  return status === 'Suspended' || status === 'Disabled';
};

export const mfaDeleteDisabledOnly: Condition = (ctx) =>
  dig(ctx.params, 'VersioningConfiguration', 'MfaDelete') === 'Disabled' && !versioningSuspended(ctx);

/** `PutBucketLogging` with a status but no `LoggingEnabled`: server access logging switched off. */
export const bucketLoggingDisabled: Condition = ({ params }) => {
  const status = params.BucketLoggingStatus;
  return isObject(status) && status.LoggingEnabled === undefined;
};

const SHORT_EXPIRY_DAYS = 7;

/** An enabled lifecycle rule that deletes objects within a week. */
export const shortLifecycleExpiry: Condition = ({ params }) =>
  listOf(dig(params, 'LifecycleConfiguration', 'Rule')).some((rule) => {
    if (dig(rule, 'Status') !== 'Enabled') return false;
    const days = [
      dig(rule, 'Expiration', 'Days'),
      dig(rule, 'NoncurrentVersionExpiration', 'NoncurrentDays'),
    ];
    return days.some((d) => Number(d) > 0 && Number(d) <= SHORT_EXPIRY_DAYS);
  });

/** Default encryption set to a KMS key of another account: the ransomware pattern. */
export const encryptsWithOutsideKey: Condition = ({ params, accountId }) => {
  const rules = listOf(dig(params, 'ServerSideEncryptionConfiguration', 'Rule'));
  return rules.some((rule) => {
    const key = String(dig(rule, 'ApplyServerSideEncryptionByDefault', 'KMSMasterKeyID') ?? '');
    const account = /^arn:aws[a-z-]*:kms:[^:]*:(\d{12}):/.exec(key)?.[1];
    return account !== undefined && accountId !== undefined && account !== accountId;
  });
};

/** Customer-provided keys (SSE-C): AWS cannot decrypt the copy; only the attacker holds the key. */
export const usesCustomerProvidedKey: Condition = ({ params }) =>
  params['x-amz-server-side-encryption-customer-algorithm'] !== undefined;

export const replicatesToOtherAccount: Condition = ({ params, accountId }) =>
  listOf(dig(params, 'ReplicationConfiguration', 'Rule')).some((rule) => {
    const account = dig(rule, 'Destination', 'Account');
    return typeof account === 'string' && account !== accountId;
  });

/** Management events off, or only reads/writes kept, in a trail's (basic or advanced) selectors. */
export const reducesTrailLogging: Condition = ({ params }) => {
  const basic = listOf(params.eventSelectors);
  if (basic.some((s) => isFalse(dig(s, 'includeManagementEvents')))) return true;
  if (basic.some((s) => ['ReadOnly', 'WriteOnly'].includes(String(dig(s, 'readWriteType'))))) return true;
  const advanced = listOf(params.advancedEventSelectors);
  if (advanced.length === 0) return false;
  const selectsManagement = advanced.some((selector) =>
    listOf(dig(selector, 'fieldSelectors')).some(
      (f) => dig(f, 'field') === 'eventCategory' && strings(dig(f, 'equals')).includes('Management'),
    ),
  );
  return !selectsManagement;
};

export const disablesDetector: Condition = ({ params }) => isFalse(params.enable);

export const archivesFindings: Condition = ({ params }) => params.action === 'ARCHIVE';

export const pausesMacie: Condition = ({ params }) => params.status === 'PAUSED';

export const projectMadePublic: Condition = ({ params }) => params.projectVisibility === 'PUBLIC_READ';

/** A modification that asks for public access (a modify call's response shows the whole state, not the change). */
export const makesDatabasePublic: Condition = ({ params }) => isTrue(params.publiclyAccessible);

/** A restored database that is public, as requested or as the new instance's state says. */
export const restoresPublicDatabase: Condition = ({ params, response }) =>
  isTrue(params.publiclyAccessible) ||
  (params.publiclyAccessible === undefined && isTrue(response.publiclyAccessible));

export const disablesDeletionProtection: Condition = ({ params }) => isFalse(params.deletionProtection);

export const setsMasterPassword: Condition = ({ params }) =>
  params.masterUserPassword !== undefined || isTrue(params.manageMasterUserPassword);

export const hasUserData: Condition = ({ params }) =>
  params.userData !== undefined || dig(params, 'attribute') === 'userData';

export const readsUserData: Condition = ({ params }) => params.attribute === 'userData';

export const withDecryption: Condition = ({ params }) => isTrue(params.withDecryption);

/**
 * GPU, accelerator, memory-optimized or very large instances: what miners launch, at $1-$30 an hour each.
 * Families: g*, p*, trn*, inf*, dl*, vt*, f* (FPGA), x*, u-*; or sizes of 8xlarge and up, and metal.
 */
const HEAVY_FAMILY = /^(g\d|p\d|trn\d|inf\d|dl\d|vt\d|f\d|x\d|u-)/;
const HEAVY_SIZE = /\.(metal.*|\d*(8|9|10|12|16|18|24|32|48|56|96|112)xlarge)$/;

function instanceTypesOf(params: Record<string, unknown>): string[] {
  const direct = params.instanceType;
  const types = [
    typeof direct === 'string' ? direct : dig(direct, 'value'),
    dig(params, 'launchSpecification', 'instanceType'),
    dig(params, 'LaunchSpecification', 'InstanceType'),
  ];
  for (const config of listOf(dig(params, 'spotFleetRequestConfig', 'launchSpecifications'))) {
    types.push(dig(config, 'instanceType'));
  }
  for (const config of listOf(dig(params, 'CreateFleetRequest', 'LaunchTemplateConfigs'))) {
    for (const override of listOf(dig(config, 'Overrides'))) types.push(dig(override, 'InstanceType'));
  }
  return types.filter((t): t is string => typeof t === 'string');
}

export const launchesHeavyInstances: Condition = ({ params }) =>
  instanceTypesOf(params).some((type) => HEAVY_FAMILY.test(type) || HEAVY_SIZE.test(type));

export const addsLambdaLayers: Condition = ({ params, response }) =>
  listOf(params.layers).length > 0 || listOf(response.layers).length > 0;

export const changesLambdaRole: Condition = ({ params }) => typeof params.role === 'string';

/** `AddPermission` for anyone (`*` without a source condition) or for another account. */
export const lambdaPermissionOpens: Condition = ({ params, accountId }) => {
  const principal = String(params.principal ?? '');
  const scoped = params.sourceArn !== undefined || params.sourceAccount !== undefined;
  if (principal === '*') return !scoped || params.functionUrlAuthType === 'NONE';
  const account = ACCOUNT_IN_PRINCIPAL.exec(principal);
  const id = account?.[1] ?? account?.[2];
  return id !== undefined && accountId !== undefined && id !== accountId;
};

export const functionUrlWithoutAuth: Condition = ({ params }) => params.authType === 'NONE';

export const assumesRoleInOtherAccount: Condition = ({ params, accountId }) => {
  const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(String(params.roleArn ?? ''))?.[1];
  return account !== undefined && accountId !== undefined && account !== accountId;
};

export const enablesSending: Condition = ({ params }) =>
  isTrue(params.enabled) || isTrue(params.sendingEnabled);

export const enablesImdsV1: Condition = ({ params }) => params.httpTokens === 'optional';

const SHORT_RETENTION_DAYS = 7;
export const shortensLogRetention: Condition = ({ params }) =>
  Number(params.retentionInDays) > 0 && Number(params.retentionInDays) <= SHORT_RETENTION_DAYS;

const COMPUTE_SERVICES =
  /^(spot|spotfleet|ecs|lightsail|sagemaker|batch|autoscaling|eks|eks-nodegroup|elasticbeanstalk|ec2scheduled|gamelift|elasticmapreduce|apprunner)\./;
export const createsComputeServiceRole: Condition = ({ params }) =>
  COMPUTE_SERVICES.test(String(params.AWSServiceName ?? params.awsServiceName ?? ''));

// ---------------------------------------------------------------------------------------------
// Event sources.
// ---------------------------------------------------------------------------------------------

const IAM = 'iam.amazonaws.com';
const STS = 'sts.amazonaws.com';
const SIGNIN = 'signin.amazonaws.com';
const EC2 = 'ec2.amazonaws.com';
const S3 = 's3.amazonaws.com';
const CLOUDTRAIL = 'cloudtrail.amazonaws.com';
const GUARDDUTY = 'guardduty.amazonaws.com';
const SECURITYHUB = 'securityhub.amazonaws.com';
const CONFIG = 'config.amazonaws.com';
const LAMBDA = 'lambda.amazonaws.com';
const SES = ['ses.amazonaws.com', 'email.amazonaws.com'];
const SNS = 'sns.amazonaws.com';
const ORGANIZATIONS = 'organizations.amazonaws.com';
/** The Account API; older console calls were recorded under the billing console. */
const ACCOUNT = ['account.amazonaws.com', 'billingconsole.amazonaws.com'];
const RDS = 'rds.amazonaws.com';
const KMS = 'kms.amazonaws.com';
const SECRETS = 'secretsmanager.amazonaws.com';
const SSM = 'ssm.amazonaws.com';
const BEDROCK = 'bedrock.amazonaws.com';
const LIGHTSAIL = 'lightsail.amazonaws.com';
const ECS = 'ecs.amazonaws.com';
const SAGEMAKER = 'sagemaker.amazonaws.com';
const BATCH = 'batch.amazonaws.com';
const EKS = 'eks.amazonaws.com';
const EMR = 'elasticmapreduce.amazonaws.com';
const GLUE = 'glue.amazonaws.com';
const CLOUDFORMATION = 'cloudformation.amazonaws.com';
const CODEBUILD = 'codebuild.amazonaws.com';
const AUTOSCALING = 'autoscaling.amazonaws.com';
const SERVICE_QUOTAS = 'servicequotas.amazonaws.com';
const LOGS = 'logs.amazonaws.com';
const CLOUDWATCH = 'monitoring.amazonaws.com';
const RESOLVER = 'route53resolver.amazonaws.com';
const MACIE = ['macie.amazonaws.com', 'macie2.amazonaws.com'];
const WAF = ['wafv2.amazonaws.com', 'waf.amazonaws.com', 'waf-regional.amazonaws.com'];
const ECR = 'ecr.amazonaws.com';
const OPENSEARCH = 'es.amazonaws.com';
const SQS = 'sqs.amazonaws.com';
const EFS = 'elasticfilesystem.amazonaws.com';
const INSTANCE_CONNECT = 'ec2-instance-connect.amazonaws.com';
const BACKUP = 'backup.amazonaws.com';
const DYNAMODB = 'dynamodb.amazonaws.com';
const IDENTITY_STORE = 'identitystore.amazonaws.com';
const SSO = 'sso.amazonaws.com';
const INSPECTOR = 'inspector2.amazonaws.com';
const ACCESS_ANALYZER = 'access-analyzer.amazonaws.com';
const DETECTIVE = 'detective.amazonaws.com';
const REDSHIFT = 'redshift.amazonaws.com';
const RAM = 'ram.amazonaws.com';

// Shared advice, so the same situation always gets the same instruction.
const TODO_NEW_KEY =
  'Deactivate, then delete the new key (it is in pivot keys) and review everything it did; containment of the leaked key does not stop it.';
const TODO_REVERT_POLICY = 'Detach or delete the policy, then review what the principal did with it.';
const TODO_REVERT_TRUST =
  'Restore the trust policy (or delete the role), revoke its active sessions and review AssumeRole calls into it.';
const TODO_STOP_COMPUTE =
  'Terminate what it launched in every region (see resources created) and check the bill; open a case with AWS Support for the charges.';
const TODO_RESTORE_LOGGING =
  'Turn it back on at once, then look for what happened while it was off in the sources that remained (other trails, S3 logs, GuardDuty).';
const TODO_ROTATE_SECRET =
  'Rotate the secret and every credential it holds; assume the attacker has the value.';
const TODO_UNSHARE =
  'Remove the sharing at once and assume the data was copied; find which accounts it was shared with.';
const TODO_RECON = 'No change to undo. Use it to see what the attacker learnt and what to check next.';

/**
 * The catalog. Order inside a call matters only for the report's readability; matching is by
 * conditions (see the file comment). Reviewed entries: every one has category, severity, technique,
 * why and todo.
 */
export const RULES: readonly Rule[] = [
  // --- Containment (AWS's quarantine, the responder's deny) ---------------------------------------
  {
    id: 'iam-containment-policy-applied',
    source: IAM,
    names: ['AttachUserPolicy', 'PutUserPolicy'],
    when: writesContainmentPolicy,
    category: 'containment',
    severity: 'info',
    technique: '-',
    why: 'A quarantine or revoke-sessions policy was applied to the user: the response, not the attack.',
    todo: 'Leave it in place until the investigation is closed.',
  },

  // --- Persistence: a way back in -------------------------------------------------------------------
  {
    id: 'iam-access-key-for-other-user',
    source: IAM,
    names: ['CreateAccessKey'],
    when: createsKeyForAnotherUser,
    category: 'persistence',
    severity: 'critical',
    technique: 'T1098.001',
    why: 'A new access key for another IAM user: a way back in that survives deactivating the leaked key.',
    todo: TODO_NEW_KEY,
  },
  {
    id: 'iam-access-key-created',
    source: IAM,
    names: ['CreateAccessKey'],
    category: 'persistence',
    severity: 'critical',
    technique: 'T1098.001',
    why: 'A second access key for the same principal (the root user if the key is root): it survives deactivating the leaked one.',
    todo: TODO_NEW_KEY,
  },
  {
    id: 'iam-login-profile-created',
    source: IAM,
    names: ['CreateLoginProfile'],
    category: 'persistence',
    severity: 'critical',
    technique: 'T1098.001',
    why: 'A console password was created: console access that needs no access key.',
    todo: 'Delete the login profile, then review ConsoleLogin events of that user.',
  },
  {
    id: 'iam-login-profile-changed',
    source: IAM,
    names: ['UpdateLoginProfile'],
    category: 'persistence',
    severity: 'high',
    technique: 'T1098.001',
    why: "A user's console password was changed: takes over that user's console access.",
    todo: 'Reset the password (or delete the login profile), tell the user, review their ConsoleLogin events.',
  },
  {
    id: 'iam-user-created',
    source: IAM,
    names: ['CreateUser'],
    category: 'persistence',
    severity: 'high',
    technique: 'T1136.003',
    why: 'A new IAM user: the usual first step to a backdoor identity with its own keys or password.',
    todo: 'Delete its keys, password, policies and group memberships, then the user.',
  },
  {
    id: 'identity-center-user-created',
    source: IDENTITY_STORE,
    names: ['CreateUser', 'CreateGroupMembership'],
    category: 'persistence',
    severity: 'high',
    technique: 'T1136.003',
    why: 'A user (or membership) in IAM Identity Center: single sign-on access outside IAM.',
    todo: 'Remove it and review its account assignments.',
  },
  {
    id: 'iam-role-trusts-outside',
    source: IAM,
    names: ['CreateRole'],
    when: trustOpensRole,
    category: 'persistence',
    severity: 'critical',
    technique: 'T1098.003',
    why: 'A role that anyone or another AWS account can assume: a way back in that no key rotation closes.',
    todo: TODO_REVERT_TRUST,
  },
  {
    id: 'iam-role-created',
    source: IAM,
    names: ['CreateRole'],
    category: 'persistence',
    severity: 'high',
    technique: 'T1136.003',
    why: 'A new IAM role: a backdoor identity if its trust or policies are later opened.',
    todo: 'Check its trust policy and attached policies; delete it if nobody owns it.',
  },
  {
    id: 'iam-trust-opened',
    source: IAM,
    names: ['UpdateAssumeRolePolicy'],
    when: trustOpensRole,
    category: 'persistence',
    severity: 'critical',
    technique: 'T1098.003',
    why: 'A role trust policy now lets anyone or another AWS account assume the role.',
    todo: TODO_REVERT_TRUST,
  },
  {
    id: 'iam-trust-changed',
    source: IAM,
    names: ['UpdateAssumeRolePolicy'],
    category: 'persistence',
    severity: 'high',
    technique: 'T1098.003',
    why: 'A role trust policy was changed: who may assume the role is different now.',
    todo: TODO_REVERT_TRUST,
  },
  {
    id: 'iam-identity-provider-trust',
    source: IAM,
    names: [
      'CreateSAMLProvider',
      'UpdateSAMLProvider',
      'CreateOpenIDConnectProvider',
      'UpdateOpenIDConnectProviderThumbprint',
      'AddClientIDToOpenIDConnectProvider',
    ],
    category: 'persistence',
    severity: 'high',
    technique: 'T1484.002',
    why: 'An identity provider trust was added or changed: an outside IdP can then sign in to roles that trust it.',
    todo: 'Delete or restore the provider and check which roles trust it.',
  },
  {
    id: 'iam-alternate-credentials',
    source: IAM,
    names: ['UploadSSHPublicKey', 'UploadSigningCertificate', 'CreateServiceSpecificCredential'],
    category: 'persistence',
    severity: 'high',
    technique: 'T1098.001',
    why: 'Another kind of credential (SSH key, signing certificate, service-specific credential such as a Bedrock or CodeCommit key) for a user.',
    todo: 'Delete the credential and review what used it.',
  },
  {
    id: 'iam-mfa-device-registered',
    source: IAM,
    names: ['CreateVirtualMFADevice', 'EnableMFADevice', 'ResyncMFADevice'],
    category: 'persistence',
    severity: 'medium',
    technique: 'T1098.005',
    why: 'An MFA device registered by the key: an attacker-held second factor locks the owner out and keeps the attacker in.',
    todo: 'Deactivate and delete the device unless the user registered it.',
  },
  {
    id: 'iam-key-reactivated',
    source: IAM,
    names: ['UpdateAccessKey'],
    when: activatesKey,
    category: 'persistence',
    severity: 'high',
    technique: 'T1098.001',
    why: 'An access key was set back to Active: possibly one the response deactivated.',
    todo: 'Deactivate it again and find which credential made the call.',
  },
  {
    id: 'ec2-key-pair',
    source: [EC2, LIGHTSAIL],
    names: ['CreateKeyPair', 'ImportKeyPair'],
    category: 'persistence',
    severity: 'medium',
    technique: 'T1098.004',
    why: 'An SSH key pair created or imported: how the attacker logs in to instances they launch or reboot.',
    todo: 'Delete the key pair; find instances launched with it.',
  },
  {
    id: 'ec2-user-data-changed',
    source: EC2,
    names: ['ModifyInstanceAttribute'],
    when: hasUserData,
    category: 'persistence',
    severity: 'high',
    technique: 'T1059.009',
    why: "An instance's user data was replaced: the script runs as root on the next start.",
    todo: 'Restore the user data before the instance restarts; inspect the instance if it already did.',
  },
  {
    id: 'lambda-function-created',
    source: LAMBDA,
    names: ['CreateFunction'],
    category: 'persistence',
    severity: 'high',
    technique: 'T1648',
    why: 'A new Lambda function: code that runs with a role in the account, often a backdoor behind a trigger.',
    todo: 'Review its code, role and triggers; delete it if nobody owns it.',
  },
  {
    id: 'lambda-code-changed',
    source: LAMBDA,
    names: ['UpdateFunctionCode'],
    category: 'persistence',
    severity: 'high',
    technique: 'T1648',
    why: "A function's code was replaced: the attacker's code now runs with the function's role.",
    todo: 'Redeploy the known-good version and review what the function did since.',
  },
  {
    id: 'lambda-layers-added',
    source: LAMBDA,
    names: ['UpdateFunctionConfiguration'],
    when: addsLambdaLayers,
    category: 'persistence',
    severity: 'high',
    technique: 'T1648',
    why: 'Layers were set on a function: a layer or extension can run attacker code inside every invocation.',
    todo: 'Remove layers nobody owns and redeploy the function.',
  },
  {
    id: 'lambda-role-changed',
    source: LAMBDA,
    names: ['UpdateFunctionConfiguration'],
    when: changesLambdaRole,
    category: 'privilege-escalation',
    severity: 'high',
    technique: 'T1548.005',
    why: "A function's execution role was changed: code in it now runs with that role's permissions.",
    todo: 'Restore the role and review what the function did since.',
  },
  {
    id: 'lambda-config-changed',
    source: LAMBDA,
    names: ['UpdateFunctionConfiguration'],
    category: 'persistence',
    severity: 'medium',
    technique: 'T1648',
    why: "A function's configuration (environment, handler, network) was changed.",
    todo: 'Compare with the deployed configuration and restore it.',
  },
  {
    id: 'lambda-permission-opened',
    source: LAMBDA,
    names: ['AddPermission'],
    when: lambdaPermissionOpens,
    category: 'persistence',
    severity: 'high',
    technique: 'T1648',
    why: 'A function can now be invoked by anyone or by another AWS account: a remote trigger for the backdoor.',
    todo: 'Remove the statement (RemovePermission) and review the function.',
  },
  {
    id: 'lambda-permission-added',
    source: LAMBDA,
    names: ['AddPermission'],
    category: 'persistence',
    severity: 'medium',
    technique: 'T1648',
    why: "A function's resource policy was extended: someone new may invoke it.",
    todo: "Review the function's policy and remove statements nobody owns.",
  },
  {
    id: 'lambda-url-without-auth',
    source: LAMBDA,
    names: ['CreateFunctionUrlConfig', 'UpdateFunctionUrlConfig'],
    when: functionUrlWithoutAuth,
    category: 'persistence',
    severity: 'high',
    technique: 'T1648',
    why: 'A function URL without authentication: anyone on the internet can call the function.',
    todo: 'Delete the function URL or set AWS_IAM auth.',
  },
  {
    id: 'ecr-image-pushed',
    source: ECR,
    names: ['PutImage'],
    category: 'persistence',
    severity: 'medium',
    technique: 'T1525',
    why: 'An image was pushed: a backdoored image runs wherever the tag is deployed.',
    todo: 'Compare the digest with your build output; delete images nobody built.',
  },

  // --- Pivots: new credentials and sign-ins -------------------------------------------------------
  {
    id: 'sts-session-token',
    source: STS,
    names: ['GetSessionToken'],
    category: 'pivot',
    severity: 'high',
    technique: 'T1550.001',
    why: 'Temporary credentials minted from the key stay valid up to 36 hours after the key is deactivated.',
    todo: 'Revoke sessions with an aws:TokenIssueTime deny on the user (the responder does this); follow the new key in pivot keys.',
  },
  {
    id: 'sts-federation-token',
    source: STS,
    names: ['GetFederationToken'],
    category: 'pivot',
    severity: 'high',
    technique: 'T1550.001',
    why: 'Federation credentials (usable for a console session) minted from the key; they outlive the key for up to 36 hours.',
    todo: 'Revoke sessions with an aws:TokenIssueTime deny on the user; follow the new key in pivot keys.',
  },
  {
    id: 'sts-assume-role-cross-account',
    source: STS,
    names: ['AssumeRole'],
    when: assumesRoleInOtherAccount,
    category: 'pivot',
    severity: 'high',
    technique: 'T1548.005',
    why: 'The key assumed a role in another AWS account: the incident reaches that account too.',
    todo: "Tell that account's owners; revoke the role's sessions and investigate the session key there.",
  },
  {
    id: 'sts-assume-role',
    source: STS,
    names: ['AssumeRole'],
    category: 'pivot',
    severity: 'medium',
    technique: 'T1548.005',
    why: "The key assumed a role: that role's permissions are now the attacker's, for up to 12 hours.",
    todo: "Revoke the role's older sessions and investigate the session key (pivot keys).",
  },
  {
    id: 'signin-token',
    source: SIGNIN,
    names: ['GetSigninToken'],
    category: 'pivot',
    severity: 'high',
    technique: 'T1550.001',
    why: 'API credentials were turned into a console session (the aws_consoler technique).',
    todo: 'Revoke the sessions the token came from; review console activity in the same window.',
  },
  {
    id: 'signin-console-login',
    source: SIGNIN,
    names: ['ConsoleLogin'],
    category: 'pivot',
    severity: 'medium',
    technique: 'T1078.004',
    why: 'A console sign-in by the same identity.',
    todo: 'Check whether the owner signed in; if not, reset the password and revoke sessions.',
  },

  // --- Privilege escalation --------------------------------------------------------------------------
  {
    id: 'iam-admin-policy-attached',
    source: IAM,
    names: ['AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy'],
    when: attachesAdminPolicy,
    category: 'privilege-escalation',
    severity: 'critical',
    technique: 'T1098.003',
    why: 'An administrator-equivalent managed policy (AdministratorAccess, IAMFullAccess, PowerUserAccess...) was attached.',
    todo: TODO_REVERT_POLICY,
  },
  {
    id: 'iam-policy-attached',
    source: IAM,
    names: ['AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy'],
    category: 'privilege-escalation',
    severity: 'high',
    technique: 'T1098.003',
    why: 'A managed policy was attached to an identity: it gains those permissions.',
    todo: TODO_REVERT_POLICY,
  },
  {
    id: 'iam-inline-policy-allows-all',
    source: IAM,
    names: ['PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy'],
    when: inlinePolicyGrantsAll,
    category: 'privilege-escalation',
    severity: 'critical',
    technique: 'T1098.003',
    why: 'An inline policy allowing "*" (or iam:*) on every resource: administrator rights.',
    todo: TODO_REVERT_POLICY,
  },
  {
    id: 'iam-inline-policy-deny-only',
    source: IAM,
    names: ['PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy'],
    when: (ctx) => inlinePolicyOnlyDenies(ctx) && !touchesContainmentPolicy(ctx),
    category: 'impact',
    severity: 'medium',
    technique: 'T1531',
    why: 'An inline policy of only Deny statements written by the key: it can lock the owner or an application out.',
    todo: 'Delete the policy unless your team wrote it.',
  },
  {
    id: 'iam-inline-policy',
    source: IAM,
    names: ['PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy'],
    category: 'privilege-escalation',
    severity: 'high',
    technique: 'T1098.003',
    why: 'An inline policy was written: the identity gains whatever it allows.',
    todo: TODO_REVERT_POLICY,
  },
  {
    id: 'iam-policy-version',
    source: IAM,
    names: ['CreatePolicyVersion', 'SetDefaultPolicyVersion'],
    category: 'privilege-escalation',
    severity: 'high',
    technique: 'T1098.003',
    why: 'A managed policy got a new default version: every identity it is attached to changes permissions.',
    todo: 'Set the previous version as default and delete the new one.',
  },
  {
    id: 'iam-policy-created',
    source: IAM,
    names: ['CreatePolicy'],
    category: 'privilege-escalation',
    severity: 'medium',
    technique: 'T1098.003',
    why: 'A new managed policy, usually attached next.',
    todo: 'Delete it once nothing uses it; check attachments (ListEntitiesForPolicy).',
  },
  {
    id: 'iam-user-added-to-group',
    source: IAM,
    names: ['AddUserToGroup'],
    category: 'privilege-escalation',
    severity: 'high',
    technique: 'T1098.003',
    why: "A user was added to a group: it gains the group's permissions (often an admin group).",
    todo: 'Remove the user from the group.',
  },
  {
    id: 'iam-permissions-boundary-removed',
    source: IAM,
    names: ['DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary'],
    category: 'privilege-escalation',
    severity: 'high',
    technique: 'T1098.003',
    why: 'A permissions boundary was removed: the identity can now use everything its policies allow.',
    todo: 'Put the boundary back.',
  },
  {
    id: 'iam-containment-removed',
    source: IAM,
    names: ['DetachUserPolicy', 'DeleteUserPolicy', 'DetachRolePolicy', 'DeleteRolePolicy'],
    when: touchesContainmentPolicy,
    category: 'defense-evasion',
    severity: 'critical',
    technique: 'T1562.001',
    why: 'The quarantine or revoke-sessions policy was removed: containment was undone.',
    todo: 'Re-apply it now, find the credential that removed it and contain that too.',
  },
  {
    id: 'iam-policy-removed',
    source: IAM,
    names: [
      'DetachUserPolicy',
      'DetachRolePolicy',
      'DetachGroupPolicy',
      'DeleteUserPolicy',
      'DeleteRolePolicy',
      'DeleteGroupPolicy',
      'DeletePolicy',
      'DeletePolicyVersion',
    ],
    category: 'privilege-escalation',
    severity: 'medium',
    technique: 'T1098.003',
    why: 'A policy was removed: this can drop a Deny that held the key back, or break an application.',
    todo: 'Check what the policy contained and restore it if it was yours.',
  },
  {
    id: 'iam-instance-profile-role',
    source: [IAM, EC2],
    names: [
      'AddRoleToInstanceProfile',
      'AssociateIamInstanceProfile',
      'ReplaceIamInstanceProfileAssociation',
    ],
    category: 'privilege-escalation',
    severity: 'medium',
    technique: 'T1548.005',
    why: 'A role was put on an instance: code on the instance gets its credentials.',
    todo: 'Remove the association and check the instance.',
  },
  {
    id: 'pass-role-to-service',
    source: [GLUE, CLOUDFORMATION, SAGEMAKER],
    names: ['CreateDevEndpoint', 'UpdateDevEndpoint', 'CreateStack', 'UpdateStack', 'CreateStackSet'],
    category: 'privilege-escalation',
    severity: 'high',
    technique: 'T1548.005',
    why: 'A service resource was created with a role passed to it (CloudFormation stacks can create anything and re-create it).',
    todo: 'Review what the stack or endpoint created and its role; delete it if nobody owns it.',
  },
  {
    id: 'sagemaker-presigned-url',
    source: SAGEMAKER,
    names: ['CreatePresignedNotebookInstanceUrl', 'CreatePresignedDomainUrl'],
    category: 'privilege-escalation',
    severity: 'medium',
    technique: 'T1548.005',
    why: "A notebook sign-in URL: a shell with the notebook's role.",
    todo: "Stop the notebook and review its role's activity.",
  },
  {
    id: 'identity-center-assignment',
    source: SSO,
    names: [
      'CreateAccountAssignment',
      'CreatePermissionSet',
      'AttachManagedPolicyToPermissionSet',
      'PutInlinePolicyToPermissionSet',
    ],
    category: 'privilege-escalation',
    severity: 'high',
    technique: 'T1098.003',
    why: 'IAM Identity Center permissions were granted or widened.',
    todo: 'Remove the assignment or restore the permission set.',
  },

  // --- Defense evasion -------------------------------------------------------------------------------
  {
    id: 'cloudtrail-stopped',
    source: CLOUDTRAIL,
    names: ['StopLogging', 'DeleteTrail'],
    category: 'defense-evasion',
    severity: 'critical',
    technique: 'T1562.008',
    why: 'A trail stopped logging or was deleted: what follows may leave no record.',
    todo: TODO_RESTORE_LOGGING,
  },
  {
    id: 'cloudtrail-selectors-reduced',
    source: CLOUDTRAIL,
    names: ['PutEventSelectors'],
    when: reducesTrailLogging,
    category: 'defense-evasion',
    severity: 'critical',
    technique: 'T1562.008',
    why: 'Event selectors now drop management events (or keep only reads or only writes): logging silently reduced.',
    todo: TODO_RESTORE_LOGGING,
  },
  {
    id: 'cloudtrail-selectors-changed',
    source: CLOUDTRAIL,
    names: ['PutEventSelectors', 'PutInsightSelectors'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.008',
    why: 'What the trail records was changed.',
    todo: "Compare with the trail's intended selectors and restore them.",
  },
  {
    id: 'cloudtrail-trail-changed',
    source: CLOUDTRAIL,
    names: ['UpdateTrail', 'DeleteEventDataStore', 'StopEventDataStoreIngestion', 'UpdateEventDataStore'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.008',
    why: 'A trail or event data store was changed or removed: logs can be redirected, cut to one region or stopped.',
    todo: TODO_RESTORE_LOGGING,
  },
  {
    id: 'guardduty-disabled',
    source: GUARDDUTY,
    names: [
      'DeleteDetector',
      'DisassociateFromMasterAccount',
      'DisassociateFromAdministratorAccount',
      'StopMonitoringMembers',
      'DeleteMembers',
    ],
    category: 'defense-evasion',
    severity: 'critical',
    technique: 'T1562.001',
    why: 'GuardDuty was deleted or cut off from its administrator: threat detection stops.',
    todo: 'Re-enable GuardDuty (and the administrator link) and review findings up to the change.',
  },
  {
    id: 'guardduty-detector-paused',
    source: GUARDDUTY,
    names: ['UpdateDetector'],
    when: disablesDetector,
    category: 'defense-evasion',
    severity: 'critical',
    technique: 'T1562.001',
    why: 'GuardDuty detector was disabled.',
    todo: 'Enable the detector again.',
  },
  {
    id: 'guardduty-trusted-ip-list',
    source: GUARDDUTY,
    names: ['CreateIPSet', 'UpdateIPSet'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.001',
    why: 'A trusted IP list: GuardDuty stops reporting activity from those addresses.',
    todo: 'Delete the IP set and re-check activity from the addresses it listed.',
  },
  {
    id: 'guardduty-auto-archive',
    source: GUARDDUTY,
    names: ['CreateFilter', 'UpdateFilter'],
    when: archivesFindings,
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.001',
    why: 'A suppression rule that auto-archives GuardDuty findings.',
    todo: 'Delete the filter and review archived findings.',
  },
  {
    id: 'guardduty-export-removed',
    source: GUARDDUTY,
    names: ['DeletePublishingDestination', 'DeleteThreatIntelSet'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.001',
    why: 'GuardDuty lost a finding export or threat list.',
    todo: 'Restore it.',
  },
  {
    id: 'securityhub-disabled',
    source: SECURITYHUB,
    names: ['DisableSecurityHub', 'BatchDisableStandards', 'DisableImportFindingsForProduct'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.001',
    why: 'Security Hub, a standard or a finding source was disabled.',
    todo: 'Re-enable it.',
  },
  {
    id: 'securityhub-findings-changed',
    source: SECURITYHUB,
    names: [
      'BatchUpdateFindings',
      'UpdateFindings',
      'DeleteInsight',
      'CreateAutomationRule',
      'UpdateAutomationRule',
    ],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.001',
    why: 'Security Hub findings or insights were changed or suppressed.',
    todo: 'Review which findings changed state and revert them.',
  },
  {
    id: 'config-disabled',
    source: CONFIG,
    names: [
      'StopConfigurationRecorder',
      'DeleteConfigurationRecorder',
      'DeleteDeliveryChannel',
      'DeleteConfigRule',
      'DeleteConformancePack',
    ],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.008',
    why: 'AWS Config stopped recording or lost rules: configuration history and compliance checks end.',
    todo: 'Restart the recorder and restore the delivery channel and rules.',
  },
  {
    id: 'ec2-flow-logs-deleted',
    source: EC2,
    names: ['DeleteFlowLogs'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.008',
    why: 'VPC flow logs were deleted: network evidence stops.',
    todo: 'Recreate the flow logs.',
  },
  {
    id: 'ec2-ebs-encryption-default-off',
    source: EC2,
    names: ['DisableEbsEncryptionByDefault'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.001',
    why: 'New EBS volumes are no longer encrypted by default (unencrypted snapshots can be shared publicly).',
    todo: 'Enable EBS encryption by default again.',
  },
  {
    id: 'logs-deleted',
    source: LOGS,
    names: ['DeleteLogGroup', 'DeleteLogStream', 'DeleteSubscriptionFilter'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.008',
    why: 'CloudWatch logs were deleted or stopped flowing to their subscriber (often a SIEM).',
    todo: 'Recreate what was removed; recover the data from the SIEM or archive if it exists.',
  },
  {
    id: 'logs-retention-shortened',
    source: LOGS,
    names: ['PutRetentionPolicy'],
    when: shortensLogRetention,
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.008',
    why: 'Log retention set to a week or less: evidence expires soon.',
    todo: 'Restore the retention period.',
  },
  {
    id: 'dns-query-logs-removed',
    source: RESOLVER,
    names: ['DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.008',
    why: 'Route 53 Resolver query logging was removed: DNS evidence stops.',
    todo: 'Recreate the query log configuration and its VPC associations.',
  },
  {
    id: 's3-access-logging-disabled',
    source: S3,
    names: ['PutBucketLogging'],
    when: bucketLoggingDisabled,
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.008',
    why: 'Server access logging was turned off on a bucket.',
    todo: TODO_RESTORE_LOGGING,
  },
  {
    id: 's3-encryption-removed',
    source: S3,
    names: ['DeleteBucketEncryption'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.001',
    why: 'Default encryption configuration of a bucket was deleted.',
    todo: 'Restore the encryption configuration.',
  },
  {
    id: 'macie-disabled',
    source: MACIE,
    names: ['DisableMacie', 'DisableOrganizationAdminAccount', 'DeleteMember'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.001',
    why: 'Macie was disabled or lost a member: sensitive-data discovery stops.',
    todo: 'Re-enable Macie.',
  },
  {
    id: 'macie-paused',
    source: MACIE,
    names: ['UpdateMacieSession'],
    when: pausesMacie,
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.001',
    why: 'Macie was paused.',
    todo: 'Resume Macie.',
  },
  {
    id: 'macie-changed',
    source: MACIE,
    names: ['UpdateMacieSession'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.001',
    why: 'Macie settings changed (for example findings published less often).',
    todo: 'Restore the settings.',
  },
  {
    id: 'detection-service-disabled',
    source: [INSPECTOR, ACCESS_ANALYZER, DETECTIVE],
    names: ['Disable', 'DeleteAnalyzer', 'DeleteGraph', 'DisassociateMember'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.001',
    why: 'A detection service (Inspector, Access Analyzer, Detective) was disabled or deleted.',
    todo: 'Re-enable it.',
  },
  {
    id: 'cloudwatch-alarms-removed',
    source: CLOUDWATCH,
    names: ['DeleteAlarms', 'DisableAlarmActions'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.001',
    why: 'CloudWatch alarms were deleted or silenced (billing alarms included).',
    todo: 'Restore the alarms and their actions.',
  },
  {
    id: 'waf-removed',
    source: WAF,
    names: ['DisassociateWebACL', 'DeleteWebACL'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.007',
    why: 'A web ACL was removed from (or deleted for) an application: its firewall is gone.',
    todo: 'Re-associate the web ACL.',
  },
  {
    id: 'ec2-ingress-open-to-world',
    source: [EC2, RDS],
    names: ['AuthorizeSecurityGroupIngress', 'AuthorizeDBSecurityGroupIngress'],
    when: opensIngressToWorld,
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.007',
    why: 'Ingress opened from the whole internet (0.0.0.0/0 or ::/0): typical before logging in to mining instances.',
    todo: 'Revoke the rule and check which instances use the group.',
  },
  {
    id: 'ec2-ingress-added',
    source: [EC2, RDS],
    names: ['AuthorizeSecurityGroupIngress', 'AuthorizeDBSecurityGroupIngress'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.007',
    why: 'A security group ingress rule was added.',
    todo: 'Revoke it unless your team added it.',
  },
  {
    id: 'ec2-nacl-opened',
    source: EC2,
    names: ['CreateNetworkAclEntry', 'ReplaceNetworkAclEntry'],
    when: permissiveNaclEntry,
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.007',
    why: 'A network ACL now allows inbound traffic from the whole internet.',
    todo: 'Delete or restore the entry.',
  },
  {
    id: 'lightsail-ports-opened',
    source: LIGHTSAIL,
    names: ['OpenInstancePublicPorts', 'PutInstancePublicPorts'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.007',
    why: 'Public ports were opened on a Lightsail instance.',
    todo: 'Close them.',
  },
  {
    id: 'bedrock-invocation-logging-removed',
    source: BEDROCK,
    names: ['DeleteModelInvocationLoggingConfiguration'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.008',
    why: 'Bedrock invocation logging was deleted: LLM-jacking hides its prompts this way.',
    todo: 'Restore invocation logging and review Bedrock usage and cost.',
  },
  {
    id: 'bedrock-invocation-logging-changed',
    source: BEDROCK,
    names: ['PutModelInvocationLoggingConfiguration'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.008',
    why: 'Bedrock invocation logging was reconfigured (destination or content can be redirected or reduced).',
    todo: 'Compare with the intended configuration.',
  },
  {
    id: 'bedrock-guardrail-removed',
    source: BEDROCK,
    names: ['DeleteGuardrail', 'UpdateGuardrail'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1562.001',
    why: 'A Bedrock guardrail was deleted or weakened.',
    todo: 'Restore the guardrail.',
  },
  {
    id: 'rds-activity-stream-stopped',
    source: RDS,
    names: ['StopActivityStream'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1562.008',
    why: 'A database activity stream was stopped: database audit evidence ends.',
    todo: 'Start the activity stream again.',
  },
  {
    id: 'account-region-enabled',
    source: [...ACCOUNT],
    names: ['EnableRegion'],
    category: 'defense-evasion',
    severity: 'medium',
    technique: 'T1535',
    why: 'An opt-in region was enabled: attackers work in regions nobody watches.',
    todo: 'Disable the region if you do not use it; check it for resources.',
  },

  // --- Organization and account changes ------------------------------------------------------------
  {
    id: 'organizations-left',
    source: ORGANIZATIONS,
    names: ['LeaveOrganization', 'RemoveAccountFromOrganization', 'DeleteOrganization'],
    category: 'organization-change',
    severity: 'critical',
    technique: 'T1666',
    why: "The account left (or was removed from) its organization: SCP guardrails and the organization's oversight no longer apply.",
    todo: 'Contact the organization administrators and AWS Support; re-invite the account.',
  },
  {
    id: 'organizations-guardrail-removed',
    source: ORGANIZATIONS,
    names: ['DetachPolicy', 'DisablePolicyType', 'DeletePolicy', 'UpdatePolicy'],
    category: 'organization-change',
    severity: 'high',
    technique: 'T1666',
    why: 'A service control (or other organization) policy was detached, disabled or changed.',
    todo: 'Restore the policy and its attachments.',
  },
  {
    id: 'organizations-account-added',
    source: ORGANIZATIONS,
    names: ['CreateAccount', 'InviteAccountToOrganization', 'AcceptHandshake', 'MoveAccount'],
    category: 'organization-change',
    severity: 'high',
    technique: 'T1666',
    why: "An account was created, invited or moved: the attacker's own account inside, or out from under guardrails.",
    todo: 'Review the account and its placement; close or remove it if nobody owns it.',
  },
  {
    id: 'organizations-delegation',
    source: ORGANIZATIONS,
    names: ['RegisterDelegatedAdministrator', 'EnableAWSServiceAccess'],
    category: 'organization-change',
    severity: 'medium',
    technique: 'T1666',
    why: 'A service or account was given administrative reach over the organization.',
    todo: 'Remove the delegation unless planned.',
  },
  {
    id: 'account-contacts-changed',
    source: [...ACCOUNT],
    names: ['PutAlternateContact', 'DeleteAlternateContact', 'PutContactInformation'],
    category: 'organization-change',
    severity: 'high',
    technique: 'T1098',
    why: 'Account contacts were changed: AWS security and billing notices then go to someone else.',
    todo: 'Restore the contacts and check for AWS notices you may have missed.',
  },
  {
    id: 'account-closed',
    source: [ORGANIZATIONS, ...ACCOUNT],
    names: ['CloseAccount'],
    category: 'impact',
    severity: 'critical',
    technique: 'T1531',
    why: 'An account was closed.',
    todo: 'Contact AWS Support at once: closed accounts can be reopened for a limited time.',
  },

  // --- Compute hijacking: launching on our bill -----------------------------------------------------
  {
    id: 'ec2-heavy-instances',
    source: EC2,
    names: ['RunInstances', 'RequestSpotInstances', 'RequestSpotFleet', 'CreateFleet'],
    when: launchesHeavyInstances,
    category: 'compute-hijacking',
    severity: 'critical',
    technique: 'T1496.001',
    why: 'GPU, accelerated or very large instances were launched: the crypto-mining pattern, thousands of dollars a day.',
    todo: TODO_STOP_COMPUTE,
  },
  {
    id: 'ec2-instances',
    source: EC2,
    names: ['RunInstances', 'RequestSpotInstances', 'RequestSpotFleet', 'CreateFleet'],
    category: 'compute-hijacking',
    severity: 'high',
    technique: 'T1496.001',
    why: 'Instances were launched (or requested) with the key.',
    todo: TODO_STOP_COMPUTE,
  },
  {
    id: 'ec2-launch-template',
    source: [EC2, AUTOSCALING],
    names: [
      'CreateLaunchTemplate',
      'CreateLaunchTemplateVersion',
      'ModifyLaunchTemplate',
      'CreateLaunchConfiguration',
      'UpdateAutoScalingGroup',
    ],
    category: 'compute-hijacking',
    severity: 'medium',
    technique: 'T1496.001',
    why: 'A launch template, configuration or group size was set: it decides what future instances run.',
    todo: 'Review the template (instance type, user data, key pair) and restore or delete it.',
  },
  {
    id: 'autoscaling-group',
    source: AUTOSCALING,
    names: ['CreateAutoScalingGroup'],
    category: 'compute-hijacking',
    severity: 'high',
    technique: 'T1496.001',
    why: 'An Auto Scaling group keeps relaunching instances even after they are terminated.',
    todo: 'Delete the group first, then its instances.',
  },
  {
    id: 'container-or-batch-compute',
    source: [ECS, BATCH, EKS, EMR, LIGHTSAIL],
    names: [
      'RunTask',
      'StartTask',
      'CreateService',
      'CreateComputeEnvironment',
      'SubmitJob',
      'CreateNodegroup',
      'CreateFargateProfile',
      'RunJobFlow',
      'CreateInstances',
      'CreateInstancesFromSnapshot',
      'CreateContainerService',
      'CreateContainerServiceDeployment',
    ],
    category: 'compute-hijacking',
    severity: 'high',
    technique: 'T1496.001',
    why: 'Compute was started outside EC2 (ECS, Batch, EKS, EMR or Lightsail): miners use whatever the quarantine policy leaves open.',
    todo: TODO_STOP_COMPUTE,
  },
  {
    id: 'container-definitions',
    source: [ECS, BATCH, EKS],
    names: [
      'RegisterTaskDefinition',
      'RegisterJobDefinition',
      'CreateJobQueue',
      'UpdateService',
      'CreateCluster',
    ],
    category: 'compute-hijacking',
    severity: 'medium',
    technique: 'T1496.001',
    why: 'A cluster, task or job definition (image, size) was created, or a service was scaled.',
    todo: 'Deregister definitions nobody owns; restore service sizes.',
  },
  {
    id: 'sagemaker-compute',
    source: SAGEMAKER,
    names: [
      'CreateNotebookInstance',
      'CreateTrainingJob',
      'CreateProcessingJob',
      'CreateTransformJob',
      'CreateHyperParameterTuningJob',
      'CreateEndpoint',
    ],
    category: 'compute-hijacking',
    severity: 'high',
    technique: 'T1496.001',
    why: 'SageMaker compute was started (GPU instances are common there).',
    todo: TODO_STOP_COMPUTE,
  },
  {
    id: 'codebuild-compute',
    source: CODEBUILD,
    names: ['StartBuild', 'StartBuildBatch', 'CreateProject'],
    category: 'compute-hijacking',
    severity: 'high',
    technique: 'T1496.001',
    why: "A build project was created or run: arbitrary code with the project's role, on our bill.",
    todo: 'Stop the builds, review the buildspec and the role; delete projects nobody owns.',
  },
  {
    id: 'service-quota-increase',
    source: SERVICE_QUOTAS,
    names: ['RequestServiceQuotaIncrease'],
    category: 'compute-hijacking',
    severity: 'high',
    technique: 'T1578.005',
    why: 'A quota increase was requested: miners raise vCPU and GPU limits to scale out.',
    todo: 'Cancel the request through AWS Support and check what was launched.',
  },
  {
    id: 'compute-service-linked-role',
    source: IAM,
    names: ['CreateServiceLinkedRole'],
    when: createsComputeServiceRole,
    category: 'compute-hijacking',
    severity: 'low',
    technique: 'T1578.005',
    why: 'A compute service (Spot, ECS, Lightsail, SageMaker...) was set up for first use: usually right before launching.',
    todo: 'Look for compute launched in the same window.',
  },
  {
    id: 'bedrock-model-invoked',
    source: BEDROCK,
    names: [
      'InvokeModel',
      'InvokeModelWithResponseStream',
      'Converse',
      'ConverseStream',
      'CreateModelInvocationJob',
    ],
    category: 'compute-hijacking',
    severity: 'high',
    technique: 'T1496.004',
    why: 'Bedrock models were used with the key: LLM-jacking resells model access on our bill.',
    todo: 'Check Bedrock cost per model and region; remove model access you do not use.',
  },
  {
    id: 'bedrock-model-access',
    source: BEDROCK,
    names: ['PutUseCaseForModelAccess', 'CreateFoundationModelAgreement', 'PutFoundationModelEntitlement'],
    category: 'compute-hijacking',
    severity: 'high',
    technique: 'T1496.004',
    why: 'Model access was requested or enabled: the first step of LLM-jacking.',
    todo: 'Remove model access you did not ask for.',
  },
  {
    id: 'bedrock-provisioned-throughput',
    source: BEDROCK,
    names: ['CreateProvisionedModelThroughput'],
    category: 'compute-hijacking',
    severity: 'critical',
    technique: 'T1496.004',
    why: 'Provisioned model throughput was bought: a commitment that costs thousands of dollars a day.',
    todo: 'Delete it now and contact AWS Support about the charge.',
  },

  // --- SES and SMS abuse --------------------------------------------------------------------------
  {
    id: 'ses-sending-enabled',
    source: SES,
    names: ['UpdateAccountSendingEnabled', 'PutAccountSendingAttributes'],
    when: enablesSending,
    category: 'ses-abuse',
    severity: 'high',
    technique: 'T1496.004',
    why: 'SES sending was switched on: spam and phishing from our domains and reputation.',
    todo: 'Disable sending, review identities and sending statistics, warn your email team.',
  },
  {
    id: 'ses-production-access',
    source: SES,
    names: ['PutAccountDetails'],
    category: 'ses-abuse',
    severity: 'high',
    technique: 'T1496.004',
    why: 'SES production access was requested (leaving the sandbox lets the account mail anyone).',
    todo: 'Withdraw the request with AWS Support.',
  },
  {
    id: 'ses-identity',
    source: SES,
    names: [
      'VerifyEmailIdentity',
      'VerifyEmailAddress',
      'VerifyDomainIdentity',
      'VerifyDomainDkim',
      'CreateEmailIdentity',
      'PutIdentityPolicy',
      'CreateEmailIdentityPolicy',
    ],
    category: 'ses-abuse',
    severity: 'medium',
    technique: 'T1496.004',
    why: 'An SES sender identity was added or opened to another account.',
    todo: 'Delete identities and identity policies nobody owns.',
  },
  {
    id: 'ses-email-sent',
    source: SES,
    names: ['SendEmail', 'SendRawEmail', 'SendTemplatedEmail', 'SendBulkTemplatedEmail', 'SendBulkEmail'],
    category: 'ses-abuse',
    severity: 'high',
    technique: 'T1496.004',
    why: 'Email was sent with the key.',
    todo: 'Review sending statistics and bounces; disable sending if it was not yours.',
  },
  {
    id: 'sns-sms-abuse',
    source: SNS,
    names: ['SetSMSAttributes', 'CreateSMSSandboxPhoneNumber', 'VerifySMSSandboxPhoneNumber'],
    category: 'ses-abuse',
    severity: 'medium',
    technique: 'T1496.003',
    why: 'SMS sending was set up: SMS pumping bills premium-rate messages to us.',
    todo: 'Restore SMS settings and spend limits.',
  },

  // --- Credential access: reading secrets -----------------------------------------------------------
  {
    id: 'secrets-read',
    source: SECRETS,
    names: ['GetSecretValue', 'BatchGetSecretValue'],
    category: 'credential-access',
    severity: 'high',
    technique: 'T1555.006',
    why: 'Secret values were read.',
    todo: TODO_ROTATE_SECRET,
  },
  {
    id: 'ssm-parameters-decrypted',
    source: SSM,
    names: ['GetParameter', 'GetParameters', 'GetParametersByPath'],
    when: withDecryption,
    category: 'credential-access',
    severity: 'high',
    technique: 'T1555.006',
    why: 'SecureString parameters were read decrypted.',
    todo: TODO_ROTATE_SECRET,
  },
  {
    id: 'ssm-parameters-read',
    source: SSM,
    names: ['GetParameter', 'GetParameters', 'GetParametersByPath'],
    category: 'credential-access',
    severity: 'medium',
    technique: 'T1555.006',
    why: 'Parameters were read; they often hold configuration and sometimes plain-text secrets.',
    todo: 'Check which parameters were read and rotate any secret among them.',
  },
  {
    id: 'ec2-user-data-read',
    source: EC2,
    names: ['DescribeInstanceAttribute'],
    when: readsUserData,
    category: 'credential-access',
    severity: 'medium',
    technique: 'T1552',
    why: 'Instance user data was read: bootstrap scripts often contain passwords and keys.',
    todo: 'Check those instances for secrets in user data and rotate them.',
  },
  {
    id: 'ec2-windows-password-read',
    source: EC2,
    names: ['GetPasswordData'],
    category: 'credential-access',
    severity: 'medium',
    technique: 'T1552',
    why: 'The encrypted Windows administrator password of an instance was fetched.',
    todo: 'Rotate the administrator password if the key pair may be known.',
  },
  {
    id: 'lightsail-keys-read',
    source: LIGHTSAIL,
    names: ['DownloadDefaultKeyPair', 'GetInstanceAccessDetails'],
    category: 'credential-access',
    severity: 'high',
    technique: 'T1552.004',
    why: 'Lightsail private keys or instance access details were downloaded.',
    todo: 'Rotate the key pairs and check the instances.',
  },
  {
    id: 'ec2-imdsv1-enabled',
    source: EC2,
    names: ['ModifyInstanceMetadataOptions'],
    when: enablesImdsV1,
    category: 'credential-access',
    severity: 'medium',
    technique: 'T1552.005',
    why: 'IMDSv1 was re-enabled: instance role credentials become easier to steal (SSRF).',
    todo: 'Require IMDSv2 again.',
  },

  // --- Exfiltration: sharing data out ----------------------------------------------------------------
  {
    id: 'ec2-snapshot-public',
    source: EC2,
    names: ['ModifySnapshotAttribute'],
    when: snapshotMadePublic,
    category: 'exfiltration',
    severity: 'critical',
    technique: 'T1537',
    why: 'An EBS snapshot was made public: anyone can copy the disk.',
    todo: TODO_UNSHARE,
  },
  {
    id: 'ec2-snapshot-shared',
    source: EC2,
    names: ['ModifySnapshotAttribute'],
    when: snapshotSharedWithAccount,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'An EBS snapshot was shared with another AWS account.',
    todo: TODO_UNSHARE,
  },
  {
    id: 'ec2-image-public',
    source: EC2,
    names: ['ModifyImageAttribute'],
    when: imageMadePublic,
    category: 'exfiltration',
    severity: 'critical',
    technique: 'T1537',
    why: 'An AMI was made public: anyone can launch (and read) it.',
    todo: TODO_UNSHARE,
  },
  {
    id: 'ec2-image-shared',
    source: EC2,
    names: ['ModifyImageAttribute'],
    when: imageSharedWithAccount,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'An AMI was shared with another AWS account.',
    todo: TODO_UNSHARE,
  },
  {
    id: 'ec2-block-public-access-off',
    source: EC2,
    names: ['DisableSnapshotBlockPublicAccess', 'DisableImageBlockPublicAccess'],
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'Block public access for snapshots or AMIs was turned off: the step before making them public.',
    todo: 'Turn it back on and check for public snapshots and AMIs.',
  },
  {
    id: 'ec2-image-exported',
    source: EC2,
    names: ['ExportImage', 'CreateInstanceExportTask', 'CreateStoreImageTask'],
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'A disk image was exported to S3: the whole disk can then be downloaded.',
    todo: 'Find the destination bucket and who can read it; delete the export.',
  },
  {
    id: 'disk-copy-staged',
    source: [EC2, RDS],
    names: [
      'CreateSnapshot',
      'CreateSnapshots',
      'CreateImage',
      'CopySnapshot',
      'CopyImage',
      'CreateDBSnapshot',
      'CreateDBClusterSnapshot',
      'CopyDBSnapshot',
      'CopyDBClusterSnapshot',
    ],
    category: 'exfiltration',
    severity: 'medium',
    technique: 'T1578.001',
    why: 'A snapshot or image was created or copied: how disks and databases are staged for sharing out.',
    todo: 'Check whether it was then shared; delete copies nobody owns.',
  },
  {
    id: 'ec2-traffic-mirroring',
    source: EC2,
    names: [
      'CreateTrafficMirrorSession',
      'CreateTrafficMirrorTarget',
      'CreateTrafficMirrorFilter',
      'CreateTrafficMirrorFilterRule',
      'ModifyTrafficMirrorSession',
      'ModifyTrafficMirrorFilterRule',
    ],
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1040',
    why: "Traffic mirroring was set up: a copy of instances' network traffic goes to another target.",
    todo: 'Delete the mirror sessions, targets and filters; check where the target sends traffic.',
  },
  {
    id: 'ec2-traffic-mirroring-removed',
    source: EC2,
    names: [
      'DeleteTrafficMirrorSession',
      'DeleteTrafficMirrorTarget',
      'DeleteTrafficMirrorFilter',
      'DeleteTrafficMirrorFilterRule',
    ],
    category: 'exfiltration',
    severity: 'low',
    technique: 'T1040',
    why: 'Traffic mirroring resources were removed: clean-up after mirroring, or the owner tidying up.',
    todo: 'Look for mirroring created earlier by the same identity.',
  },
  {
    id: 'rds-snapshot-public',
    source: RDS,
    names: ['ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute'],
    when: rdsSnapshotMadePublic,
    category: 'exfiltration',
    severity: 'critical',
    technique: 'T1537',
    why: 'A database snapshot was made public.',
    todo: TODO_UNSHARE,
  },
  {
    id: 'rds-snapshot-shared',
    source: RDS,
    names: ['ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute'],
    when: rdsSnapshotSharedWithAccount,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'A database snapshot was shared with another AWS account.',
    todo: TODO_UNSHARE,
  },
  {
    id: 'rds-snapshot-export',
    source: RDS,
    names: ['StartExportTask'],
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'A database snapshot was exported to S3.',
    todo: 'Find the destination bucket and who can read it.',
  },
  {
    id: 'rds-public-restore',
    source: RDS,
    names: [
      'RestoreDBInstanceFromDBSnapshot',
      'RestoreDBClusterFromSnapshot',
      'RestoreDBInstanceToPointInTime',
    ],
    when: restoresPublicDatabase,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1578.002',
    why: 'A database was restored as publicly accessible: a copy of the data reachable from the internet.',
    todo: 'Delete the restored instance after keeping evidence.',
  },
  {
    id: 'rds-restore',
    source: RDS,
    names: [
      'RestoreDBInstanceFromDBSnapshot',
      'RestoreDBClusterFromSnapshot',
      'RestoreDBInstanceToPointInTime',
    ],
    category: 'exfiltration',
    severity: 'medium',
    technique: 'T1578.002',
    why: 'A database was restored from a snapshot: a copy the attacker can reset the password of.',
    todo: 'Delete the restored instance unless your team made it.',
  },
  {
    id: 'rds-made-public',
    source: RDS,
    names: ['ModifyDBInstance', 'ModifyDBCluster'],
    when: makesDatabasePublic,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1530',
    why: 'A database was made publicly accessible.',
    todo: 'Set it private again and review its security groups.',
  },
  {
    id: 'rds-master-password',
    source: RDS,
    names: ['ModifyDBInstance', 'ModifyDBCluster'],
    when: setsMasterPassword,
    category: 'persistence',
    severity: 'high',
    technique: 'T1098',
    why: 'The database master password was changed: the attacker can log in to the database and locks the owner out.',
    todo: 'Reset the master password and review database connections.',
  },
  {
    id: 's3-bucket-policy-public',
    source: S3,
    names: ['PutBucketPolicy'],
    when: resourcePolicyPublic,
    category: 'exfiltration',
    severity: 'critical',
    technique: 'T1530',
    why: 'A bucket policy now allows anyone.',
    todo: TODO_UNSHARE,
  },
  {
    id: 's3-bucket-policy-other-account',
    source: S3,
    names: ['PutBucketPolicy'],
    when: resourcePolicyOtherAccount,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'A bucket policy now allows another AWS account.',
    todo: TODO_UNSHARE,
  },
  {
    id: 's3-bucket-policy-changed',
    source: S3,
    names: ['PutBucketPolicy', 'DeleteBucketPolicy'],
    category: 'exfiltration',
    severity: 'medium',
    technique: 'T1530',
    why: 'A bucket policy was changed.',
    todo: 'Compare with the intended policy and restore it.',
  },
  {
    id: 's3-acl-public',
    source: S3,
    names: ['PutBucketAcl', 'PutObjectAcl'],
    when: aclGrantsPublic,
    category: 'exfiltration',
    severity: 'critical',
    technique: 'T1530',
    why: 'An ACL grants access to all (or all authenticated) AWS users.',
    todo: TODO_UNSHARE,
  },
  {
    id: 's3-acl-changed',
    source: S3,
    names: ['PutBucketAcl'],
    category: 'exfiltration',
    severity: 'medium',
    technique: 'T1530',
    why: 'A bucket ACL was changed.',
    todo: 'Compare with the intended ACL and restore it.',
  },
  {
    id: 's3-public-access-block-removed',
    source: S3,
    names: ['DeleteBucketPublicAccessBlock', 'DeletePublicAccessBlock', 'DeleteAccountPublicAccessBlock'],
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1530',
    why: 'S3 Block Public Access was removed: the step before making data public.',
    todo: 'Restore Block Public Access and check bucket policies and ACLs for public grants.',
  },
  {
    id: 's3-public-access-block-weakened',
    source: S3,
    names: ['PutBucketPublicAccessBlock', 'PutPublicAccessBlock', 'PutAccountPublicAccessBlock'],
    when: disablesPublicAccessBlock,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1530',
    why: 'S3 Block Public Access was weakened (one or more settings turned off).',
    todo: 'Turn all four settings back on and check for public grants.',
  },
  {
    id: 's3-replication-other-account',
    source: S3,
    names: ['PutBucketReplication'],
    when: replicatesToOtherAccount,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: "Replication to another account's bucket: every new object is copied out.",
    todo: 'Delete the replication configuration and find the destination owner.',
  },
  {
    id: 's3-replication-set',
    source: S3,
    names: ['PutBucketReplication'],
    category: 'exfiltration',
    severity: 'medium',
    technique: 'T1537',
    why: 'Replication was configured: objects are copied to another bucket.',
    todo: 'Check the destination bucket and its owner.',
  },
  {
    id: 's3-object-read',
    source: S3,
    names: ['GetObject'],
    category: 'exfiltration',
    severity: 'medium',
    technique: 'T1530',
    why: 'Objects were read (S3 data event).',
    todo: 'List the objects read and judge what data left.',
  },
  {
    id: 'resource-policy-public',
    source: [SECRETS, KMS, ECR, SQS, SNS, OPENSEARCH, EFS, DYNAMODB],
    names: [
      'PutResourcePolicy',
      'PutKeyPolicy',
      'CreateKey',
      'SetRepositoryPolicy',
      'SetQueueAttributes',
      'SetTopicAttributes',
      'CreateElasticsearchDomain',
      'UpdateElasticsearchDomainConfig',
      'CreateDomain',
      'UpdateDomainConfig',
      'PutFileSystemPolicy',
    ],
    when: resourcePolicyPublic,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1530',
    why: 'A resource policy (secret, key, repository, queue, topic, search domain, file system, table) now allows anyone.',
    todo: TODO_UNSHARE,
  },
  {
    id: 'resource-policy-other-account',
    source: [SECRETS, KMS, ECR, SQS, SNS, OPENSEARCH, EFS, DYNAMODB],
    names: [
      'PutResourcePolicy',
      'PutKeyPolicy',
      'CreateKey',
      'SetRepositoryPolicy',
      'SetQueueAttributes',
      'SetTopicAttributes',
      'CreateElasticsearchDomain',
      'UpdateElasticsearchDomainConfig',
      'CreateDomain',
      'UpdateDomainConfig',
      'PutFileSystemPolicy',
    ],
    when: resourcePolicyOtherAccount,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'A resource policy now allows another AWS account.',
    todo: TODO_UNSHARE,
  },
  {
    id: 'resource-policy-changed',
    source: [SECRETS, KMS, ECR],
    names: ['PutResourcePolicy', 'PutKeyPolicy', 'SetRepositoryPolicy'],
    category: 'exfiltration',
    severity: 'medium',
    technique: 'T1530',
    why: 'A secret, key or repository policy was changed.',
    todo: 'Compare with the intended policy and restore it.',
  },
  {
    id: 'codebuild-project-public',
    source: CODEBUILD,
    names: ['UpdateProjectVisibility'],
    when: projectMadePublic,
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1530',
    why: 'A build project was made public: its build logs and artifacts (often with secrets) are readable by anyone.',
    todo: 'Make it private and rotate secrets that appear in its logs.',
  },
  {
    id: 'data-exported-or-shared',
    source: [DYNAMODB, REDSHIFT, RAM],
    names: [
      'ExportTableToPointInTime',
      'AuthorizeSnapshotAccess',
      'CreateResourceShare',
      'AssociateResourceShare',
    ],
    category: 'exfiltration',
    severity: 'high',
    technique: 'T1537',
    why: 'Data was exported or a resource shared with other principals (DynamoDB export, Redshift snapshot, RAM share).',
    todo: TODO_UNSHARE,
  },

  // --- Lateral movement: into instances --------------------------------------------------------------
  {
    id: 'ssm-command',
    source: SSM,
    names: ['SendCommand', 'StartSession', 'StartAutomationExecution', 'CreateAssociation'],
    category: 'lateral-movement',
    severity: 'high',
    technique: 'T1651',
    why: 'Commands were run on instances through Systems Manager.',
    todo: 'Read the command history (ListCommandInvocations) and inspect the instances.',
  },
  {
    id: 'ec2-instance-connect',
    source: INSTANCE_CONNECT,
    names: ['SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey'],
    category: 'lateral-movement',
    severity: 'high',
    technique: 'T1021.004',
    why: 'An SSH key was pushed to an instance (EC2 Instance Connect): a login for the next minute.',
    todo: 'Inspect the instances for logins and changes.',
  },

  // --- Impact: deletions, encryption, disabling ------------------------------------------------------
  {
    id: 's3-bucket-deleted',
    source: S3,
    names: ['DeleteBucket'],
    category: 'impact',
    severity: 'high',
    technique: 'T1485',
    why: 'A bucket was deleted.',
    todo: 'Restore from backups or replicas.',
  },
  {
    id: 's3-objects-deleted',
    source: S3,
    names: ['DeleteObject', 'DeleteObjects'],
    category: 'impact',
    severity: 'medium',
    technique: 'T1485',
    why: 'Objects were deleted (S3 data event).',
    todo: 'Restore earlier versions if versioning was on.',
  },
  {
    id: 's3-versioning-suspended',
    source: S3,
    names: ['PutBucketVersioning'],
    when: versioningSuspended,
    category: 'impact',
    severity: 'high',
    technique: 'T1490',
    why: 'Bucket versioning was suspended: deleted or overwritten objects can no longer be recovered.',
    todo: 'Enable versioning again.',
  },
  {
    id: 's3-mfa-delete-disabled',
    source: S3,
    names: ['PutBucketVersioning'],
    when: mfaDeleteDisabledOnly,
    category: 'impact',
    severity: 'medium',
    technique: 'T1490',
    why: 'MFA delete was turned off: versions can be deleted without a second factor.',
    todo: 'Turn MFA delete back on (root user with MFA).',
  },
  {
    id: 's3-replication-removed',
    source: S3,
    names: ['DeleteBucketReplication'],
    category: 'impact',
    severity: 'medium',
    technique: 'T1490',
    why: 'Bucket replication was removed: the copy that allows recovery stops.',
    todo: 'Restore the replication configuration.',
  },
  {
    id: 's3-short-lifecycle',
    source: S3,
    names: ['PutBucketLifecycle', 'PutBucketLifecycleConfiguration'],
    when: shortLifecycleExpiry,
    category: 'impact',
    severity: 'high',
    technique: 'T1485',
    why: 'A lifecycle rule expires objects within a week: data (often the CloudTrail log bucket) is destroyed on a timer.',
    todo: 'Remove the rule now; expiry runs daily.',
  },
  {
    id: 's3-lifecycle-changed',
    source: S3,
    names: ['PutBucketLifecycle', 'PutBucketLifecycleConfiguration'],
    category: 'impact',
    severity: 'low',
    technique: 'T1485',
    why: 'A bucket lifecycle configuration was changed.',
    todo: 'Compare with the intended configuration.',
  },
  {
    id: 's3-ransom-encryption',
    source: S3,
    names: ['PutBucketEncryption'],
    when: encryptsWithOutsideKey,
    category: 'impact',
    severity: 'critical',
    technique: 'T1486',
    why: "Default encryption set to another account's KMS key: new objects become readable only with the attacker's key.",
    todo: 'Restore your encryption configuration and check for re-encrypted objects.',
  },
  {
    id: 's3-ransom-copy',
    source: S3,
    names: ['CopyObject', 'PutObject'],
    when: usesCustomerProvidedKey,
    category: 'impact',
    severity: 'critical',
    technique: 'T1486',
    why: 'Objects were written with a customer-provided key (SSE-C): only whoever holds that key can read them.',
    todo: 'Restore earlier versions; find every object written this way.',
  },
  {
    id: 'kms-key-destroyed',
    source: KMS,
    names: ['ScheduleKeyDeletion', 'DeleteImportedKeyMaterial'],
    category: 'impact',
    severity: 'critical',
    technique: 'T1485',
    why: 'A KMS key is scheduled for deletion (or lost its key material): everything encrypted with it becomes unreadable.',
    todo: 'Cancel the deletion (CancelKeyDeletion) within the waiting period.',
  },
  {
    id: 'kms-key-disabled',
    source: KMS,
    names: ['DisableKey'],
    category: 'impact',
    severity: 'high',
    technique: 'T1485',
    why: 'A KMS key was disabled: data encrypted with it cannot be read until it is enabled.',
    todo: 'Enable the key again.',
  },
  {
    id: 'database-deleted',
    source: [RDS, DYNAMODB],
    names: ['DeleteDBInstance', 'DeleteDBCluster', 'DeleteTable'],
    category: 'impact',
    severity: 'high',
    technique: 'T1485',
    why: 'A database or table was deleted.',
    todo: 'Restore from the final snapshot or backups.',
  },
  {
    id: 'backups-deleted',
    source: [RDS, DYNAMODB, BACKUP, EC2],
    names: [
      'DeleteDBSnapshot',
      'DeleteDBClusterSnapshot',
      'DeleteDBInstanceAutomatedBackup',
      'DeleteDBClusterAutomatedBackup',
      'DeleteBackup',
      'DeleteBackupVault',
      'DeleteRecoveryPoint',
      'DeleteBackupPlan',
      'DeleteSnapshot',
    ],
    category: 'impact',
    severity: 'high',
    technique: 'T1490',
    why: 'Backups or snapshots were deleted: recovery options shrink (a ransomware step).',
    todo: 'Check what backups remain and protect them (vault lock, deletion protection).',
  },
  {
    id: 'rds-deletion-protection-off',
    source: RDS,
    names: ['ModifyDBInstance', 'ModifyDBCluster'],
    when: disablesDeletionProtection,
    category: 'impact',
    severity: 'high',
    technique: 'T1490',
    why: 'Deletion protection was turned off on a database: the step before deleting it.',
    todo: 'Turn deletion protection back on.',
  },
  {
    id: 'compute-destroyed',
    source: [EC2, LAMBDA, CLOUDFORMATION, EFS, ECR],
    names: [
      'TerminateInstances',
      'DeleteVolume',
      'DeleteFunction',
      'DeleteStack',
      'DeleteFileSystem',
      'DeleteRepository',
      'BatchDeleteImage',
    ],
    category: 'impact',
    severity: 'medium',
    technique: 'T1485',
    why: 'Instances, volumes, functions, stacks, file systems or images were deleted: damage, or evidence removed.',
    todo: 'Check whether they were yours and restore from backups.',
  },
  {
    id: 'secret-deleted',
    source: SECRETS,
    names: ['DeleteSecret'],
    category: 'impact',
    severity: 'high',
    technique: 'T1485',
    why: 'A secret was scheduled for deletion: the applications that use it will fail.',
    todo: 'Restore it (RestoreSecret) within the recovery window.',
  },
  {
    id: 'iam-access-removed',
    source: IAM,
    names: [
      'DeleteUser',
      'DeleteRole',
      'DeleteLoginProfile',
      'DeleteAccessKey',
      'DeleteSAMLProvider',
      'DeleteOpenIDConnectProvider',
    ],
    category: 'impact',
    severity: 'medium',
    technique: 'T1531',
    why: 'Identities or their credentials were deleted: owners or single sign-on can be locked out.',
    todo: 'Check who relied on them and restore access.',
  },
  {
    id: 'iam-key-deactivated',
    source: IAM,
    names: ['UpdateAccessKey'],
    when: deactivatesKey,
    category: 'impact',
    severity: 'medium',
    technique: 'T1531',
    why: "Someone's access key was deactivated: it locks the owner (or an application) out.",
    todo: 'Re-activate it if it is a legitimate key the attacker turned off.',
  },
  {
    id: 'iam-mfa-removed',
    source: IAM,
    names: ['DeactivateMFADevice', 'DeleteVirtualMFADevice'],
    category: 'defense-evasion',
    severity: 'high',
    technique: 'T1556.006',
    why: "A user's MFA device was removed: the second factor no longer protects the account.",
    todo: 'Re-register MFA with the user in person.',
  },
  {
    id: 'ec2-instances-stopped',
    source: EC2,
    names: ['StopInstances'],
    category: 'impact',
    severity: 'low',
    technique: 'T1489',
    why: 'Instances were stopped (also done before changing user data).',
    todo: 'Check user data and restart them if they were yours.',
  },

  // --- Reconnaissance: looking around ----------------------------------------------------------------
  {
    id: 'sts-whoami',
    source: STS,
    names: ['GetCallerIdentity', 'GetAccessKeyInfo'],
    category: 'reconnaissance',
    severity: 'low',
    technique: 'T1087.004',
    why: 'The classic first call with a found key: whose key is it and which account.',
    todo: TODO_RECON,
  },
  {
    id: 'sts-decode-denial',
    source: STS,
    names: ['DecodeAuthorizationMessage'],
    category: 'reconnaissance',
    severity: 'low',
    technique: 'T1069.003',
    why: 'A denial message was decoded: the attacker is working out which policy stopped them.',
    todo: TODO_RECON,
  },
  {
    id: 'iam-full-dump',
    source: IAM,
    names: ['GetAccountAuthorizationDetails', 'GenerateCredentialReport', 'GetCredentialReport'],
    category: 'reconnaissance',
    severity: 'low',
    technique: 'T1087.004',
    why: 'Every user, role, group and policy (or the credential report) was downloaded: a full map of the account.',
    todo: TODO_RECON,
  },
  {
    id: 'iam-password-policy',
    source: IAM,
    names: ['GetAccountPasswordPolicy'],
    category: 'reconnaissance',
    severity: 'low',
    technique: 'T1201',
    why: 'The password policy was read: done before creating a console password that it will accept.',
    todo: TODO_RECON,
  },
  {
    id: 'iam-identity-discovery',
    source: IAM,
    names: [
      'ListUsers',
      'ListRoles',
      'ListAccessKeys',
      'GetUser',
      'GetRole',
      'GetLoginProfile',
      'GetAccessKeyLastUsed',
      'ListMFADevices',
      'ListVirtualMFADevices',
      'ListSSHPublicKeys',
      'ListSigningCertificates',
      'ListServiceSpecificCredentials',
      'ListInstanceProfiles',
      'ListSAMLProviders',
      'ListOpenIDConnectProviders',
      'ListAccountAliases',
      'GetAccountSummary',
    ],
    category: 'reconnaissance',
    severity: 'info',
    technique: 'T1087.004',
    why: 'IAM identities or their credentials were listed.',
    todo: TODO_RECON,
  },
  {
    id: 'iam-permission-discovery',
    source: IAM,
    names: [
      'ListGroups',
      'GetGroup',
      'ListGroupsForUser',
      'ListPolicies',
      'GetPolicy',
      'GetPolicyVersion',
      'ListPolicyVersions',
      'ListAttachedUserPolicies',
      'ListAttachedRolePolicies',
      'ListAttachedGroupPolicies',
      'ListUserPolicies',
      'ListRolePolicies',
      'ListGroupPolicies',
      'GetUserPolicy',
      'GetRolePolicy',
      'GetGroupPolicy',
      'ListEntitiesForPolicy',
      'SimulatePrincipalPolicy',
      'SimulateCustomPolicy',
    ],
    category: 'reconnaissance',
    severity: 'info',
    technique: 'T1069.003',
    why: 'Groups and policies were read: the attacker is working out what the key may do.',
    todo: TODO_RECON,
  },
  {
    id: 'organization-discovery',
    source: [ORGANIZATIONS, ...ACCOUNT],
    names: [
      'DescribeOrganization',
      'ListAccounts',
      'DescribeAccount',
      'ListRoots',
      'ListAccountsForParent',
      'ListOrganizationalUnitsForParent',
      'DescribeEffectivePolicy',
      'GetContactInformation',
      'GetAlternateContact',
      'ListRegions',
      'GetRegionOptStatus',
    ],
    category: 'reconnaissance',
    severity: 'low',
    technique: 'T1087.004',
    why: 'The organization, account details, contacts or regions were read: sizing up the account and who would notice.',
    todo: TODO_RECON,
  },
  {
    id: 'ses-discovery',
    source: SES,
    names: [
      'GetSendQuota',
      'GetSendStatistics',
      'GetAccountSendingEnabled',
      'GetAccount',
      'ListIdentities',
      'ListEmailIdentities',
      'ListVerifiedEmailAddresses',
      'GetIdentityVerificationAttributes',
      'GetEmailIdentity',
    ],
    category: 'reconnaissance',
    severity: 'low',
    technique: 'T1526',
    why: 'SES quota, sending status or identities were read: the step before using SES for spam.',
    todo: 'Check that SES sending is as you left it; no change to undo yet.',
  },
  {
    id: 'bedrock-discovery',
    source: BEDROCK,
    names: [
      'ListFoundationModels',
      'GetFoundationModelAvailability',
      'GetUseCaseForModelAccess',
      'ListFoundationModelAgreementOffers',
      'GetModelInvocationLoggingConfiguration',
    ],
    category: 'reconnaissance',
    severity: 'low',
    technique: 'T1526',
    why: 'Bedrock models, access or prompt logging were checked: the step before LLM-jacking.',
    todo: 'Check Bedrock model access and invocation logging; no change to undo yet.',
  },
  {
    id: 'quota-discovery',
    source: SERVICE_QUOTAS,
    names: ['GetServiceQuota', 'ListServiceQuotas', 'GetRequestedServiceQuotaChange'],
    category: 'reconnaissance',
    severity: 'low',
    technique: 'T1526',
    why: 'Service quotas were read: how many vCPUs or GPUs the attacker could launch.',
    todo: TODO_RECON,
  },
  {
    id: 'bucket-discovery',
    source: S3,
    names: ['ListBuckets'],
    category: 'reconnaissance',
    severity: 'info',
    technique: 'T1619',
    why: 'Buckets were listed: looking for data to take.',
    todo: TODO_RECON,
  },
  {
    id: 'data-store-discovery',
    source: [SECRETS, RDS],
    names: ['ListSecrets', 'DescribeDBSnapshots', 'DescribeDBClusterSnapshots'],
    category: 'reconnaissance',
    severity: 'info',
    technique: 'T1580',
    why: 'Secrets or database snapshots were listed: looking for credentials and data to take.',
    todo: TODO_RECON,
  },
  {
    id: 'log-discovery',
    source: CLOUDTRAIL,
    names: ['LookupEvents'],
    category: 'reconnaissance',
    severity: 'info',
    technique: 'T1654',
    why: 'CloudTrail history was queried: checking what is recorded about them.',
    todo: TODO_RECON,
  },
];

const VERSION_SUFFIX = /\d{8}(v\d+)?$/;
const normalizedNames = new Map<string, string>();

/** `UpdateFunctionCode20150331v2` -> `UpdateFunctionCode`: Lambda records carry API version suffixes. */
export function normalizeEventName(name: string): string {
  const cached = normalizedNames.get(name);
  if (cached !== undefined) return cached;
  const normalized = name.replace(VERSION_SUFFIX, '');
  // Event names are a closed set (a few thousand APIs); the bound only guards against garbage input.
  if (normalizedNames.size < 20_000) normalizedNames.set(name, normalized);
  return normalized;
}

function indexKey(source: string, name: string): string {
  return `${source}\u0000${name}`;
}

/** Looks up the catalog entries for one call; built once. */
export class RuleIndex {
  private readonly byCall = new Map<string, Rule[]>();

  constructor(rules: readonly Rule[] = RULES) {
    for (const rule of rules) {
      const sources = typeof rule.source === 'string' ? [rule.source] : rule.source;
      for (const source of sources) {
        for (const name of rule.names) {
          const key = indexKey(source, name);
          const list = this.byCall.get(key);
          if (list) list.push(rule);
          else this.byCall.set(key, [rule]);
        }
      }
    }
  }

  /** Entries for the call whose condition holds; the fallback only when no conditional one does. */
  match(ctx: MatchContext, eventSource: string, eventName: string): Rule[] {
    const candidates = this.byCall.get(indexKey(eventSource, normalizeEventName(eventName)));
    if (!candidates) return [];
    const matched: Rule[] = [];
    let fallback: Rule | undefined;
    for (const rule of candidates) {
      if (!rule.when) {
        fallback ??= rule;
        continue;
      }
      if (safely(rule.when, ctx)) matched.push(rule);
    }
    if (matched.length === 0 && fallback) matched.push(fallback);
    return matched;
  }

  /** True when the catalog has any entry for the call (used to tell catalog hits from catch-alls). */
  knows(eventSource: string, eventName: string): boolean {
    return this.byCall.has(indexKey(eventSource, normalizeEventName(eventName)));
  }
}

/** A condition that throws on a malformed record does not match; one bad record never stops a run. */
function safely(condition: Condition, ctx: MatchContext): boolean {
  try {
    return condition(ctx);
  } catch {
    return false;
  }
}
