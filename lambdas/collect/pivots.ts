/**
 * A key the attacker minted with a key it held: a temporary one (STS), or a long-term key it
 * created for a user (a backdoor). Either way its activity is the attacker's too.
 */
export interface Pivot {
  accessKeyId: string;
  /** The key whose call minted it. */
  mintedBy: string;
  eventName: string;
  eventId: string;
  eventTime: string;
  region: string;
  /** For AssumeRole*: the role whose session the key is. */
  roleArn?: string;
  /** For CreateAccessKey: the user the new key belongs to. */
  userName?: string;
}

const MINTING_CALLS = new Set([
  'GetSessionToken',
  'GetFederationToken',
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'AssumeRoot',
]);

interface RecordShape {
  eventName?: string;
  eventID?: string;
  eventTime?: string;
  awsRegion?: string;
  errorCode?: string;
  userIdentity?: { accessKeyId?: string };
  requestParameters?: { roleArn?: string } | null;
  responseElements?: {
    credentials?: { accessKeyId?: string };
    accessKey?: { accessKeyId?: string; userName?: string };
  } | null;
}

/** The pivot a CloudTrail record shows, if it minted credentials. */
export function pivotOf(recordJson: string): Pivot | undefined {
  // Cheap test first: most records mint nothing, and parsing every one would double the cost.
  if (!recordJson.includes('"credentials"') && !recordJson.includes('"accessKey"')) return undefined;
  let record: RecordShape;
  try {
    record = JSON.parse(recordJson) as RecordShape;
  } catch {
    return undefined;
  }
  if (!record.eventName || record.errorCode) return undefined;
  const base = {
    mintedBy: record.userIdentity?.accessKeyId ?? 'unknown',
    eventName: record.eventName,
    eventId: record.eventID ?? '',
    eventTime: record.eventTime ?? '',
    region: record.awsRegion ?? '',
  };
  if (MINTING_CALLS.has(record.eventName)) {
    const minted = record.responseElements?.credentials?.accessKeyId;
    if (!minted) return undefined;
    return {
      accessKeyId: minted,
      ...base,
      ...(record.requestParameters?.roleArn ? { roleArn: record.requestParameters.roleArn } : {}),
    };
  }
  if (record.eventName === 'CreateAccessKey') {
    const created = record.responseElements?.accessKey;
    if (!created?.accessKeyId) return undefined;
    return {
      accessKeyId: created.accessKeyId,
      ...base,
      ...(created.userName ? { userName: created.userName } : {}),
    };
  }
  return undefined;
}
