import {
  DeleteLoginProfileCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountSummaryCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  AccessDeniedError,
  classifyAwsError,
  DrillNotAllowedError,
  describeError,
  isAccessDenied,
  isTransient,
} from '../shared/errors';
import type { ActionRecord, ContainmentResult, ExposedKey, Incident } from '../shared/types';

export interface ContainSettings {
  responderAccountId: string;
  mode: 'contain' | 'notify-only' | 'dry-run';
  revokeSessions: boolean;
  loginProfile: 'keep' | 'delete';
  /** Users carrying this tag (value "true") are only reported. Unset: nobody is exempt. */
  exemptTag?: string;
  canaryTag: string;
  revokePolicyName: string;
  now?: () => Date;
}

/** What the root user must do by hand: no IAM principal can deactivate a root key. */
export const ROOT_KEY_STEPS = [
  'Sign in as the root user (the account e-mail) and open Security credentials.',
  'Under Access keys, make the exposed key Inactive, then delete it: the root user should have no access keys at all.',
  'Reset the root password and enable MFA on the root user if it is not on.',
  'In an organization with centralized root access, the management account can instead delete the key with sts:AssumeRoot and the IAMDeleteRootUserCredentials task policy.',
  'Then check CloudTrail for everything the key did and review every region for resources you did not create.',
];

/**
 * Contains one exposed key: find its owner, decide by policy, deactivate it, revoke the
 * sessions minted from it, apply the login-profile policy, and record every step.
 * Deactivating (never deleting) keeps the key ID for forensics and can be undone if an
 * application breaks. Only the named key is touched; the user's other keys are listed, never changed.
 */
export async function containKey(
  iam: IAMClient,
  settings: ContainSettings,
  incident: Incident,
  key: ExposedKey,
): Promise<ContainmentResult> {
  const now = settings.now ?? (() => new Date());
  const { accessKeyId } = key;
  const base = { accessKeyId, incidentId: incident.incidentId };

  if (incident.accountId !== settings.responderAccountId) {
    return {
      ...base,
      owner: { type: 'unknown' },
      decision: 'foreign-account',
      reason: `The event says ${accessKeyId} belongs to account ${incident.accountId}, but this responder runs in account ${settings.responderAccountId} and refuses to act elsewhere. Deploy the responder in ${incident.accountId}, or deactivate the key there by hand.`,
      actions: [],
      manualSteps: [
        `In account ${incident.accountId}: aws iam update-access-key --access-key-id ${accessKeyId} --status Inactive --user-name <owner>`,
      ],
    };
  }

  const owner = await findOwner(iam, accessKeyId);
  if (owner.type === 'root') {
    return {
      ...base,
      owner,
      decision: 'manual-required',
      reason: `${accessKeyId} is not owned by any IAM user and this account's root user has access keys: it is a root key, which only the root user can deactivate.`,
      actions: [],
      manualSteps: ROOT_KEY_STEPS,
    };
  }
  if (owner.type === 'unknown') {
    return { ...base, owner, decision: 'not-found', reason: owner.why, actions: [] };
  }

  const userName = owner.userName;
  const userKeys = await listKeys(iam, userName);
  const mine = userKeys.find((k) => k.accessKeyId === accessKeyId);
  if (!mine) {
    return {
      ...base,
      owner: { type: 'unknown' },
      decision: 'not-found',
      reason: `IAM named ${userName} as the owner of ${accessKeyId}, but the key is not among that user's keys (deleted meanwhile?). Nothing was changed.`,
      actions: [],
    };
  }
  const otherKeys = userKeys.filter((k) => k.accessKeyId !== accessKeyId);
  const tags = await listTags(iam, userName);

  if (incident.trigger === 'drill' && tags[settings.canaryTag] !== 'true') {
    throw new DrillNotAllowedError(
      `Drill refused: user ${userName} does not carry the canary tag ${settings.canaryTag}=true, and drills may only act on canary users. No key was changed.`,
    );
  }

  const ownerInfo = { type: 'user' as const, userName };
  if (settings.exemptTag && tags[settings.exemptTag] === 'true') {
    return {
      ...base,
      owner: ownerInfo,
      decision: 'notify-only',
      reason: `User ${userName} carries the exempt tag ${settings.exemptTag}=true, so the responder only reports. Deactivate the key by hand once the application has a new one.`,
      actions: [],
      keyStatusAfter: mine.status,
      otherKeys,
      manualSteps: rotationSteps(userName, accessKeyId),
    };
  }
  if (settings.mode === 'notify-only') {
    return {
      ...base,
      owner: ownerInfo,
      decision: 'notify-only',
      reason: 'The responder is deployed in notify-only mode: nothing was changed.',
      actions: [],
      keyStatusAfter: mine.status,
      otherKeys,
      manualSteps: rotationSteps(userName, accessKeyId),
    };
  }

  const plan = planActions(settings, userName, accessKeyId, now());
  if (settings.mode === 'dry-run') {
    return {
      ...base,
      owner: ownerInfo,
      decision: 'dry-run',
      reason: 'The responder is deployed in dry-run mode: these actions were decided, none was performed.',
      actions: plan.map((step) => ({
        action: step.action,
        target: step.target,
        at: now().toISOString(),
        ok: true,
        planned: true,
      })),
      keyStatusAfter: mine.status,
      otherKeys,
    };
  }

  const actions: ActionRecord[] = [];
  const manualSteps: string[] = [];
  let containedAt: string | undefined;
  for (const step of plan) {
    const at = now().toISOString();
    try {
      const detail = await step.run(iam);
      actions.push({ action: step.action, target: step.target, at, ok: true, ...(detail ? { detail } : {}) });
      // Contained from the moment IAM accepted the change, not from when it was asked.
      if (step.action === 'iam:UpdateAccessKey') containedAt = now().toISOString();
    } catch (error) {
      actions.push({ action: step.action, target: step.target, at, ok: false, error: describeError(error) });
      if (step.essential) {
        // Without the deactivation the key is still live: fail loudly with what was done so far.
        const named = classifyAwsError(
          step.action,
          error,
          `Key ${accessKeyId} of user ${userName} is still ACTIVE.`,
        );
        throw named;
      }
      // The key is already inactive: a transient failure is worth a retry of the whole step
      // (every action is idempotent); any other failure is reported with the command to finish by hand.
      if (isTransient(error)) {
        throw classifyAwsError(step.action, error, `Key ${accessKeyId} is already inactive.`);
      }
      manualSteps.push(step.manual);
    }
  }

  // A failed read-back must not turn a done containment into a failure: report it as unknown.
  const after = await listKeys(iam, userName).catch(() => undefined);
  return {
    ...base,
    owner: ownerInfo,
    decision: 'contained',
    reason: containedReason(mine.status === 'Inactive', actions),
    actions,
    containedAt,
    keyStatusAfter: after?.find((k) => k.accessKeyId === accessKeyId)?.status ?? 'unknown',
    otherKeys: after ? after.filter((k) => k.accessKeyId !== accessKeyId) : otherKeys,
    ...(manualSteps.length ? { manualSteps } : {}),
  };
}

/** Says only what the recorded actions show was done. */
function containedReason(wasInactive: boolean, actions: ActionRecord[]): string {
  const done = (action: string) => actions.some((a) => a.action === action && a.ok);
  const failed = (action: string) => actions.some((a) => a.action === action && !a.ok);
  const parts = [wasInactive ? 'The key was already inactive (confirmed)' : 'The key was deactivated'];
  if (done('iam:PutUserPolicy')) parts.push('the sessions minted from it were revoked');
  if (failed('iam:PutUserPolicy')) parts.push('but its sessions could NOT be revoked (see below)');
  if (done('iam:DeleteLoginProfile')) parts.push("the user's console password was handled");
  if (failed('iam:DeleteLoginProfile')) parts.push("the user's console password could NOT be removed");
  return `${parts.join(', ')}.`;
}

interface PlannedAction {
  action: string;
  target: string;
  /** An essential action's failure leaves the key usable: it fails the step. */
  essential: boolean;
  manual: string;
  run(iam: IAMClient): Promise<string | undefined>;
}

function planActions(
  settings: ContainSettings,
  userName: string,
  accessKeyId: string,
  now: Date,
): PlannedAction[] {
  const plan: PlannedAction[] = [
    {
      action: 'iam:UpdateAccessKey',
      target: `${userName}/${accessKeyId}`,
      essential: true,
      manual: `aws iam update-access-key --user-name ${userName} --access-key-id ${accessKeyId} --status Inactive`,
      run: async (client) => {
        // UserName is mandatory here: without it IAM acts on the caller's own keys.
        await client.send(
          new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: 'Inactive' }),
        );
        return 'Status=Inactive';
      },
    },
  ];
  if (settings.revokeSessions) {
    const document = revokeSessionsPolicy(now);
    plan.push({
      action: 'iam:PutUserPolicy',
      target: `${userName}/${settings.revokePolicyName}`,
      essential: false,
      manual: `aws iam put-user-policy --user-name ${userName} --policy-name ${settings.revokePolicyName} --policy-document '${document}'`,
      run: async (client) => {
        await client.send(
          new PutUserPolicyCommand({
            UserName: userName,
            PolicyName: settings.revokePolicyName,
            PolicyDocument: document,
          }),
        );
        return `denies every session token issued before ${now.toISOString()}`;
      },
    });
  }
  if (settings.loginProfile === 'delete') {
    plan.push({
      action: 'iam:DeleteLoginProfile',
      target: userName,
      essential: false,
      manual: `aws iam delete-login-profile --user-name ${userName}`,
      run: async (client) => {
        try {
          await client.send(new DeleteLoginProfileCommand({ UserName: userName }));
          return 'console password removed';
        } catch (error) {
          if (error instanceof NoSuchEntityException) return 'user had no console password';
          throw error;
        }
      },
    });
  }
  return plan;
}

/**
 * Deactivating a key does not end the temporary credentials minted with it (up to 36 h).
 * Long-term keys carry no aws:TokenIssueTime, so a replacement key keeps working.
 */
export function revokeSessionsPolicy(now: Date): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RevokeSessionsIssuedBeforeContainment',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': now.toISOString() } },
      },
    ],
  });
}

export function rotationSteps(userName: string, accessKeyId: string): string[] {
  return [
    `If an application uses this key: aws iam create-access-key --user-name ${userName}, give the new key to the application and check that it works.`,
    `Then deactivate the exposed key: aws iam update-access-key --user-name ${userName} --access-key-id ${accessKeyId} --status Inactive`,
    `Delete it once nothing breaks: aws iam delete-access-key --user-name ${userName} --access-key-id ${accessKeyId}`,
  ];
}

/** Whether the key is active right now (false when it or its user is gone). */
export async function isKeyActive(iam: IAMClient, userName: string, accessKeyId: string): Promise<boolean> {
  try {
    const keys = await listKeys(iam, userName);
    return keys.some((k) => k.accessKeyId === accessKeyId && k.status === 'Active');
  } catch (error) {
    if (
      (error as { name?: string }).name === 'NoSuchEntityException' ||
      error instanceof NoSuchEntityException
    )
      return false;
    throw error;
  }
}

type Owner = { type: 'user'; userName: string } | { type: 'root' } | { type: 'unknown'; why: string };

const ROOT_NAMES = new Set(['root', '<root_account>']);

async function findOwner(iam: IAMClient, accessKeyId: string): Promise<Owner> {
  let userName: string | undefined;
  try {
    const out = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
    userName = out.UserName;
  } catch (error) {
    if (error instanceof NoSuchEntityException || (error as { name?: string }).name === 'NoSuchEntity') {
      return {
        type: 'unknown',
        why: `IAM knows no key ${accessKeyId} in this account (already deleted, or never existed). Nothing was changed.`,
      };
    }
    if (isAccessDenied(error)) {
      throw new AccessDeniedError(
        `iam:GetAccessKeyLastUsed was refused for ${accessKeyId} (${describeError(error)}). Either the responder lacks the permission, or the key belongs to another account. No key was changed.`,
      );
    }
    throw classifyAwsError('iam:GetAccessKeyLastUsed', error, `Key ${accessKeyId} was not touched.`);
  }
  if (userName && !ROOT_NAMES.has(userName)) return { type: 'user', userName };

  // GetAccessKeyLastUsed does not document root keys; AccountAccessKeysPresent does.
  const summary = await call('iam:GetAccountSummary', () => iam.send(new GetAccountSummaryCommand({})));
  if (summary.SummaryMap?.AccountAccessKeysPresent === 1) return { type: 'root' };
  return {
    type: 'unknown',
    why: `No IAM user owns ${accessKeyId} and the root user has no access keys: the key is not usable in this account. Nothing was changed.`,
  };
}

async function listKeys(
  iam: IAMClient,
  userName: string,
): Promise<{ accessKeyId: string; status: 'Active' | 'Inactive' }[]> {
  const keys: { accessKeyId: string; status: 'Active' | 'Inactive' }[] = [];
  let marker: string | undefined;
  do {
    const page = await call('iam:ListAccessKeys', () =>
      iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker })),
    );
    for (const k of page.AccessKeyMetadata ?? []) {
      if (k.AccessKeyId)
        keys.push({ accessKeyId: k.AccessKeyId, status: k.Status === 'Inactive' ? 'Inactive' : 'Active' });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return keys;
}

async function listTags(iam: IAMClient, userName: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let marker: string | undefined;
  do {
    const page = await call('iam:ListUserTags', () =>
      iam.send(new ListUserTagsCommand({ UserName: userName, Marker: marker })),
    );
    for (const tag of page.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return tags;
}

async function call<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw classifyAwsError(name, error, 'No key was changed.');
  }
}
