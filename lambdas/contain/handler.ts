import type { Context } from 'aws-lambda';
import { iam } from '../shared/clients/iam';
import { env, required } from '../shared/env';
import { once } from '../shared/idempotency';
import { logger, metrics, tracer } from '../shared/powertools';
import type { ContainmentResult, ExposedKey, Incident } from '../shared/types';
import { containKey, isKeyActive } from './contain-key';

export interface ContainInput {
  incident: Incident;
  key: ExposedKey;
}

interface ClaimedContainment {
  /** The de-duplication key: the same key in the same account is contained once per window. */
  claim: string;
  incident: Incident;
  key: ExposedKey;
}

/**
 * Re-deliveries, the backup-region copy and AWS's quarantine trigger all name the same key in
 * the same account but carry different notification IDs, so the claim is the account and the
 * key (plus the drill event for drills, which repeat on purpose). The first execution's result
 * is stored; later ones get it back and end quietly. A failed containment stores nothing, so a
 * re-delivery tries again.
 */
function claimFor(incident: Incident, key: ExposedKey): string {
  const base = `${incident.accountId}#${key.accessKeyId}`;
  return incident.trigger === 'drill' || incident.trigger === 'manual'
    ? `${base}#${incident.notificationId}`
    : base;
}

function containNow(incident: Incident, key: ExposedKey): Promise<ContainmentResult> {
  const settings = env();
  return containKey(
    iam,
    {
      responderAccountId: required('RESPONDER_ACCOUNT_ID'),
      mode: settings.MODE,
      revokeSessions: settings.REVOKE_SESSIONS,
      loginProfile: settings.LOGIN_PROFILE,
      exemptTag: settings.EXEMPT_TAG,
      canaryTag: settings.CANARY_TAG,
      revokePolicyName: settings.REVOKE_POLICY_NAME,
    },
    incident,
    key,
  );
}

/** The same key in the same account is contained once per window, whichever notification names it. */
const containOnce = once(async ({ incident, key }: ClaimedContainment) => containNow(incident, key), {
  keyJmesPath: 'claim',
});

/** Step 2, once per key: contain it, or say why not. */
export const handler = async (input: ContainInput, context?: Context): Promise<ContainmentResult> => {
  if (context) logger.addContext(context);
  const { incident, key } = input;
  const stored = await containOnce({ claim: claimFor(incident, key), incident, key }, context);
  let result: ContainmentResult =
    stored.incidentId === incident.incidentId ? stored : { ...stored, duplicateOf: stored.incidentId };
  // A new notification for a key contained earlier in the window: if the key is active again
  // (switched back on by its owner, or by the attacker), the earlier result no longer holds.
  if (result.duplicateOf && result.decision === 'contained' && result.owner.userName) {
    if (await isKeyActive(iam, result.owner.userName, key.accessKeyId)) {
      logger.warn('Key active again since its first containment: containing it afresh', {
        accessKeyId: key.accessKeyId,
        firstIncidentId: result.duplicateOf,
      });
      result = await containNow(incident, key);
    }
  }
  logger.info('Key handled', {
    incidentId: incident.incidentId,
    accessKeyId: key.accessKeyId,
    decision: result.decision,
    duplicateOf: result.duplicateOf,
  });
  tracer.putAnnotation('decision', result.decision);
  if (!result.duplicateOf) {
    metrics.addDimension('Decision', result.decision);
    metrics.addMetric('KeysHandled', 'Count', 1);
    metrics.publishStoredMetrics();
  }
  return result;
};
