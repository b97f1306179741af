import {
  GetUserPolicyCommand,
  type IAMClient,
  ListAccessKeysCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { asSubject } from '../alert/render';
import { revokeSessionsPolicy } from '../contain/contain-key';
import { classifyAwsError } from '../shared/errors';
import type { ActionRecord, ContainmentResult, Incident } from '../shared/types';

export interface ConfirmSettings {
  revokeSessions: boolean;
  revokePolicyName: string;
  now?: () => Date;
}

export interface Confirmation {
  accessKeyId: string;
  userName: string;
  /** True when nothing had been undone. */
  held: boolean;
  /** What had to be done again, with when. */
  reapplied: ActionRecord[];
  /** e.g. the key was deleted meanwhile. */
  note?: string;
}

/**
 * IAM is eventually consistent: for a few seconds after containment, an attacker holding IAM
 * rights through an earlier session can re-activate the key or delete the deny. A little later
 * this step reads the containment back and applies it again where it was undone.
 */
export async function confirmContainment(
  iam: IAMClient,
  settings: ConfirmSettings,
  results: ContainmentResult[],
): Promise<Confirmation[]> {
  const now = settings.now ?? (() => new Date());
  const confirmations: Confirmation[] = [];
  for (const result of results) {
    const userName = result.owner.userName;
    if (result.decision !== 'contained' || result.duplicateOf || !userName) continue;
    const confirmation: Confirmation = {
      accessKeyId: result.accessKeyId,
      userName,
      held: true,
      reapplied: [],
    };

    const status = await keyStatus(iam, userName, result.accessKeyId);
    if (status === undefined) {
      confirmation.note = 'The key no longer exists (deleted since containment).';
    } else if (status === 'Active') {
      await call('iam:UpdateAccessKey', () =>
        iam.send(
          new UpdateAccessKeyCommand({
            UserName: userName,
            AccessKeyId: result.accessKeyId,
            Status: 'Inactive',
          }),
        ),
      );
      confirmation.held = false;
      confirmation.reapplied.push({
        action: 'iam:UpdateAccessKey',
        target: `${userName}/${result.accessKeyId}`,
        at: now().toISOString(),
        ok: true,
        detail: 'the key had been re-activated after containment; deactivated again',
      });
    }

    if (
      settings.revokeSessions &&
      status !== undefined &&
      !(await hasPolicy(iam, userName, settings.revokePolicyName))
    ) {
      // A later cut-off than the first one: it also ends any session minted in between.
      const at = now();
      await call('iam:PutUserPolicy', () =>
        iam.send(
          new PutUserPolicyCommand({
            UserName: userName,
            PolicyName: settings.revokePolicyName,
            PolicyDocument: revokeSessionsPolicy(at),
          }),
        ),
      );
      confirmation.held = false;
      confirmation.reapplied.push({
        action: 'iam:PutUserPolicy',
        target: `${userName}/${settings.revokePolicyName}`,
        at: at.toISOString(),
        ok: true,
        detail: `the session deny had been removed; put back, denying sessions issued before ${at.toISOString()}`,
      });
    }
    confirmations.push(confirmation);
  }
  return confirmations;
}

/** The alert sent only when something had been undone: someone with IAM rights is fighting back. */
export function renderUndoneAlert(
  incident: Incident,
  undone: Confirmation[],
): { subject: string; message: string } {
  const subject = asSubject(
    `[CONTAINMENT UNDONE, RE-APPLIED] ${undone.map((c) => c.accessKeyId).join(', ')} in ${incident.accountId}`,
  );
  const lines = [
    'After the responder contained the key, someone undid the containment. The responder applied it again:',
    '',
  ];
  for (const c of undone) {
    lines.push(`${c.accessKeyId} (IAM user ${c.userName}):`);
    for (const a of c.reapplied) lines.push(`  ${a.at}  ${a.action}  ${a.detail ?? ''}`);
  }
  lines.push(
    '',
    'WHAT THIS MEANS',
    'Someone holds other credentials with IAM write access (a session minted before containment, another user, or a role).',
    '',
    'WHAT TO DO NOW',
    `1. Find who did it: aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=${undone[0]?.userName ?? '<user>'} --region us-east-1 (look for UpdateAccessKey and DeleteUserPolicy and their caller).`,
    '2. Contain that principal too, and check every user and role for new access keys, policies and trust relationships.',
    '3. In an organization, an SCP that denies IAM writes to everyone but the responder closes this window.',
    `Incident: ${incident.incidentId}`,
  );
  return { subject, message: lines.join('\n') };
}

async function keyStatus(iam: IAMClient, userName: string, accessKeyId: string): Promise<string | undefined> {
  let marker: string | undefined;
  try {
    do {
      const page = await iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker }));
      const key = page.AccessKeyMetadata?.find((k) => k.AccessKeyId === accessKeyId);
      if (key) return key.Status;
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw classifyAwsError('iam:ListAccessKeys', error, 'The containment could not be confirmed.');
  }
  return undefined;
}

async function hasPolicy(iam: IAMClient, userName: string, policyName: string): Promise<boolean> {
  try {
    await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: policyName }));
    return true;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return false;
    throw classifyAwsError('iam:GetUserPolicy', error, 'The containment could not be confirmed.');
  }
}

async function call<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw classifyAwsError(
      name,
      error,
      'The containment was undone and could not be re-applied: the key may be ACTIVE.',
    );
  }
}
