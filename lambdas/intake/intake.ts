import { type IAMClient, ListAccessKeysCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { classifyAwsError } from '../shared/errors';
import type { AmbiguousUser, ExposedKey, IntakeResult, RejectedEntity } from '../shared/types';
import { type ParseOptions, parseEvent } from './parse-event';

/**
 * Turns a raw event into the incident and the keys to contain.
 * AWS's quarantine names a user, not a key: with one active key there is no doubt which key
 * leaked; with several, acting on all of them would switch off keys that did not leak, so the
 * user is reported as ambiguous and the Health event that names the key does the containing.
 */
export async function intake(raw: unknown, options: ParseOptions, iam: IAMClient): Promise<IntakeResult> {
  const parsed = parseEvent(raw, options);
  if (parsed.kind === 'health') {
    const { incident, keys, rejected, consoleUsers } = parsed;
    return { incident, keys, rejected, ambiguous: [], consoleUsers };
  }

  const { incident, quarantinedUser } = parsed;
  const keys: ExposedKey[] = [];
  const ambiguous: AmbiguousUser[] = [];
  const rejected: RejectedEntity[] = [];
  const active = await activeKeysOf(iam, quarantinedUser);
  if (active === undefined) {
    rejected.push({ value: quarantinedUser, reason: 'AWS quarantined this user, but it no longer exists' });
  } else if (active.length === 1) {
    keys.push({ accessKeyId: active[0], reportedUserName: quarantinedUser });
  } else if (active.length === 0) {
    rejected.push({
      value: quarantinedUser,
      reason: 'AWS quarantined this user, which has no active access key left',
    });
  } else {
    ambiguous.push({ userName: quarantinedUser, activeAccessKeyIds: active });
  }
  return { incident, keys, rejected, ambiguous, consoleUsers: [] };
}

async function activeKeysOf(iam: IAMClient, userName: string): Promise<string[] | undefined> {
  const active: string[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker }));
      for (const key of page.AccessKeyMetadata ?? []) {
        if (key.Status === 'Active' && key.AccessKeyId) active.push(key.AccessKeyId);
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw classifyAwsError('iam:ListAccessKeys', error, `User: ${userName}.`);
  }
  return active;
}
