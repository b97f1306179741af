import type { Context } from 'aws-lambda';
import type { RoleAssumed } from '../pivots/manifest';
import { iam } from '../shared/clients/iam';
import { env, required } from '../shared/env';
import { logger } from '../shared/powertools';
import { type RoleRevocation, revokeRoleSessions } from './revoke-role-sessions';

/** With revokeAssumedRoleSessions: end the sessions of every role the attacker assumed. */
export const handler = async (
  input: { rolesAssumed: RoleAssumed[] },
  context?: Context,
): Promise<{ roles: RoleRevocation[] }> => {
  if (context) logger.addContext(context);
  const settings = env();
  const roles = await revokeRoleSessions(
    iam,
    input.rolesAssumed ?? [],
    settings.RESPONDER_ROLE_PREFIX,
    () => new Date(),
    required('RESPONDER_ACCOUNT_ID'),
  );
  logger.info('Role sessions revoked', { roles });
  return { roles };
};
