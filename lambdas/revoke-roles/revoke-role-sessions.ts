import { type IAMClient, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { revokeSessionsPolicy } from '../contain/contain-key';
import type { RoleAssumed } from '../pivots/manifest';
import { classifyAwsError, describeError, isAccessDenied } from '../shared/errors';
import type { ActionRecord } from '../shared/types';

/** The inline policy name the console's "Revoke active sessions" writes, so people recognise it. */
export const ROLE_REVOKE_POLICY = 'AWSRevokeOlderSessions';

export interface RoleRevocation {
  roleArn: string;
  outcome: 'revoked' | 'skipped' | 'failed';
  why?: string;
  action?: ActionRecord;
}

/**
 * Ends the sessions the attacker holds on roles it assumed with the leaked key or its pivots:
 * a deny on every session issued before now. Service-linked roles cannot take inline policies,
 * and the responder never touches its own roles.
 */
export async function revokeRoleSessions(
  iam: IAMClient,
  roles: RoleAssumed[],
  ownRolePrefix: string,
  now: () => Date = () => new Date(),
  accountId?: string,
): Promise<RoleRevocation[]> {
  const outcomes: RoleRevocation[] = [];
  for (const roleArn of [...new Set(roles.map((r) => r.roleArn))]) {
    const resource = roleArn.split(':role/')[1];
    const roleName = resource?.split('/').pop();
    const roleAccount = roleArn.split(':')[4];
    if (!resource || !roleName) {
      outcomes.push({ roleArn, outcome: 'skipped', why: 'not a role ARN' });
    } else if (accountId && roleAccount !== accountId) {
      // CloudTrail logs a cross-account AssumeRole here too; a same-named role of this account is another role.
      outcomes.push({
        roleArn,
        outcome: 'skipped',
        why: `role in another account (${roleAccount}): revoke its sessions there`,
      });
    } else if (resource.startsWith('aws-service-role/')) {
      outcomes.push({ roleArn, outcome: 'skipped', why: 'service-linked roles cannot take an inline deny' });
    } else if (ownRolePrefix && roleName.startsWith(ownRolePrefix)) {
      outcomes.push({
        roleArn,
        outcome: 'skipped',
        why: "one of the responder's own roles: it never changes them",
      });
    } else {
      const at = now();
      try {
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: ROLE_REVOKE_POLICY,
            PolicyDocument: revokeSessionsPolicy(at),
          }),
        );
        outcomes.push({
          roleArn,
          outcome: 'revoked',
          action: {
            action: 'iam:PutRolePolicy',
            target: `${roleName}/${ROLE_REVOKE_POLICY}`,
            at: at.toISOString(),
            ok: true,
          },
        });
      } catch (error) {
        if (error instanceof NoSuchEntityException) {
          outcomes.push({ roleArn, outcome: 'skipped', why: 'the role no longer exists' });
        } else if (isAccessDenied(error)) {
          outcomes.push({ roleArn, outcome: 'failed', why: describeError(error) });
        } else {
          throw classifyAwsError(
            'iam:PutRolePolicy',
            error,
            `Role ${roleName} still accepts its older sessions.`,
          );
        }
      }
    }
  }
  return outcomes;
}
