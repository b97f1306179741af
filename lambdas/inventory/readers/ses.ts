/**
 * SES in one Region: identities (verified or pending) and whether the Region can send in bulk. Spammers
 * verify their own addresses and ask for production access; the identities show the first, the quota the
 * second.
 */
import {
  GetAccountSendingEnabledCommand,
  GetIdentityVerificationAttributesCommand,
  GetSendQuotaCommand,
  ListIdentitiesCommand,
  type SESClient,
} from '@aws-sdk/client-ses';
import { sesIdentityCleanup, sesSendingCleanup } from '../cleanup';
import { type ReaderResult, SES_SENDING_ID } from '../types';
import { compact, paginate, type ReaderContext, runReader } from './common';

export type SesClients = { ses: SESClient };

/** GetIdentityVerificationAttributes takes at most 100 identities per call. */
const VERIFICATION_BATCH = 100;
/** The sandbox's daily quota: above it, the account has production access in this Region. */
const SANDBOX_MAX_24H = 200;

export async function readSes(ctx: ReaderContext<SesClients>): Promise<ReaderResult> {
  const { region, accountId, clients } = ctx;
  return runReader('ses', ctx, async (run) => {
    await run.part('identities', async () => {
      const identities: string[] = [];
      await paginate(
        run,
        'ses:ListIdentities',
        (NextToken) => clients.ses.send(new ListIdentitiesCommand({ MaxItems: 1000, NextToken })),
        (page) => page.NextToken,
        (page) => identities.push(...(page.Identities ?? [])),
      );
      for (let i = 0; i < identities.length; i += VERIFICATION_BATCH) {
        const batch = identities.slice(i, i + VERIFICATION_BATCH);
        const attributes = await run.optional('ses:GetIdentityVerificationAttributes', () =>
          clients.ses.send(new GetIdentityVerificationAttributesCommand({ Identities: batch })),
        );
        for (const identity of batch) {
          run.items.push({
            service: 'ses',
            type: 'identity',
            id: identity,
            arn: `arn:aws:ses:${region}:${accountId}:identity/${identity}`,
            region,
            // SES does not date identities: attribution relies on the key's Verify* calls.
            createdByKey: 'unknown',
            ...sesIdentityCleanup(region, identity),
            details: compact({
              identityType: identity.includes('@') ? 'email' : 'domain',
              verificationStatus: attributes?.VerificationAttributes?.[identity]?.VerificationStatus,
            }),
          });
        }
      }
    });
    await run.part('sending', async () => {
      const quota = await run.call('ses:GetSendQuota', () => clients.ses.send(new GetSendQuotaCommand({})));
      const max24h = quota.Max24HourSend ?? 0;
      const sent24h = quota.SentLast24Hours ?? 0;
      const production = max24h > SANDBOX_MAX_24H;
      // A sandboxed Region that sent nothing is every account's default: not worth a line, nor a call more.
      if (!production && sent24h === 0) return;
      const enabled = await run.optional('ses:GetAccountSendingEnabled', () =>
        clients.ses.send(new GetAccountSendingEnabledCommand({})),
      );
      // Sending paused (by the owner or by AWS after abuse): nothing to stop.
      if (enabled?.Enabled === false) return;
      run.items.push({
        service: 'ses',
        type: 'sending',
        id: SES_SENDING_ID,
        region,
        createdByKey: 'unknown',
        ...sesSendingCleanup(region),
        details: compact({
          sendingEnabled: enabled?.Enabled,
          productionAccess: production,
          max24HourSend: max24h,
          maxSendRate: quota.MaxSendRate,
          sentLast24Hours: sent24h,
        }),
      });
    });
  });
}
