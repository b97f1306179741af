import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  type IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';

export interface SeededUser {
  userName: string;
  victimKey: string;
  secondKey: string;
}

/** A user with two active keys: one the event will name, one that must stay untouched. */
export async function seedUserWithTwoKeys(
  iam: IAMClient,
  userName: string,
  tags: Record<string, string> = {},
): Promise<SeededUser> {
  await iam.send(
    new CreateUserCommand({
      UserName: userName,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  const victim = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  const second = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  return {
    userName,
    victimKey: victim.AccessKey?.AccessKeyId ?? '',
    secondKey: second.AccessKey?.AccessKeyId ?? '',
  };
}

export async function keyStatuses(iam: IAMClient, userName: string): Promise<Record<string, string>> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId ?? '', k.Status ?? '']));
}
