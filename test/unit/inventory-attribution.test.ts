import {
  attribute,
  buildEvidenceIndex,
  indexRecord,
  newEvidenceIndex,
  resourceKey,
  type TrailRecord,
} from '../../lambdas/inventory/attribution';
import type { InventoryItem } from '../../lambdas/inventory/types';

const ACCOUNT = '111122223333';
const LEAKED = 'AKIA2EXAMPLELEAKED23';
const SESSION = 'ASIA2EXAMPLESESSION6';
const OTHER = 'AKIA2EXAMPLEOTHERS99';
const EXPOSURE = '2026-11-20T00:00:00Z';
const NEW = '2026-11-21T08:00:00.000Z';
const OLD = '2025-03-01T08:00:00.000Z';

let sequence = 0;
/** A successful call of the leaked key; `overrides` replace top-level fields. */
function call(eventSource: string, eventName: string, overrides: Partial<TrailRecord> = {}): TrailRecord {
  sequence += 1;
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', accountId: ACCOUNT, accessKeyId: LEAKED, userName: 'ci-deployer' },
    eventTime: `2026-11-21T00:${String(sequence % 60).padStart(2, '0')}:00Z`,
    eventSource: `${eventSource}.amazonaws.com`,
    eventName,
    awsRegion: 'eu-north-1',
    requestParameters: null,
    responseElements: null,
    eventID: `evt-${sequence}`,
    ...overrides,
  };
}

function item(
  service: InventoryItem['service'],
  type: InventoryItem['type'],
  id: string,
  extra: Partial<InventoryItem> = {},
): InventoryItem {
  return {
    service,
    type,
    id,
    region: 'eu-north-1',
    createdByKey: 'unknown',
    cleanup: `# clean ${id}`,
    consoleUrl: `https://console.aws.amazon.com/${id}`,
    ...extra,
  };
}

describe('buildEvidenceIndex', () => {
  it('indexes what the creating calls name, from JSON strings and parsed records alike', () => {
    const records = [
      call('ec2', 'RunInstances', {
        eventID: 'evt-run',
        responseElements: {
          instancesSet: { items: [{ instanceId: 'i-0aaa1' }, { instanceId: 'i-0aaa2' }] },
        },
      }),
      JSON.stringify(
        call('ec2', 'RequestSpotInstances', {
          responseElements: { spotInstanceRequestSet: { items: [{ spotInstanceRequestId: 'sir-1' }] } },
        }),
      ),
      call('ec2', 'CreateKeyPair', { requestParameters: { keyName: 'miner' } }),
      call('ec2', 'ImportKeyPair', { requestParameters: { keyName: 'attacker-key' } }),
      call('ec2', 'CreateSecurityGroup', { responseElements: { groupId: 'sg-new' } }),
      call('ec2', 'AuthorizeSecurityGroupIngress', { requestParameters: { groupId: 'sg-old' } }),
      call('ec2', 'CreateImage', { responseElements: { imageId: 'ami-1' } }),
      call('ec2', 'CopyImage', { responseElements: { imageId: 'ami-2' } }),
      call('ec2', 'ModifyImageAttribute', { requestParameters: { imageId: 'ami-old' } }),
      call('ec2', 'CreateSnapshot', { responseElements: { snapshotId: 'snap-1' } }),
      call('ec2', 'ModifySnapshotAttribute', { requestParameters: { snapshotId: 'snap-old' } }),
      call('ec2', 'CreateVolume', { responseElements: { volumeId: 'vol-1' } }),
      call('iam', 'CreateUser', { awsRegion: 'us-east-1', requestParameters: { userName: 'backdoor' } }),
      call('iam', 'CreateAccessKey', {
        awsRegion: 'us-east-1',
        responseElements: { accessKey: { accessKeyId: 'AKIAMINTED', userName: 'backdoor' } },
      }),
      call('iam', 'CreateLoginProfile', {
        awsRegion: 'us-east-1',
        requestParameters: { userName: 'backdoor' },
      }),
      call('iam', 'UpdateAccessKey', {
        awsRegion: 'us-east-1',
        requestParameters: { userName: 'old', accessKeyId: 'AKIAREENABLED', status: 'Active' },
      }),
      call('iam', 'CreateRole', { awsRegion: 'us-east-1', requestParameters: { roleName: 'ext' } }),
      call('iam', 'UpdateAssumeRolePolicy', {
        awsRegion: 'us-east-1',
        requestParameters: { roleName: 'deploy' },
      }),
      call('iam', 'CreatePolicy', { awsRegion: 'us-east-1', requestParameters: { policyName: 'p' } }),
      call('iam', 'CreatePolicyVersion', {
        awsRegion: 'us-east-1',
        requestParameters: { policyArn: `arn:aws:iam::${ACCOUNT}:policy/ops` },
        responseElements: { policyVersion: { versionId: 'v3' } },
      }),
      call('lambda', 'CreateFunction20150331', { requestParameters: { functionName: 'backdoor' } }),
      call('lambda', 'AddPermission20150331v2', {
        requestParameters: {
          functionName: `arn:aws:lambda:eu-north-1:${ACCOUNT}:function:old`,
          statementId: 'open',
        },
      }),
      call('lambda', 'CreateFunctionUrlConfig', {
        requestParameters: { functionName: 'backdoor', qualifier: 'live' },
      }),
      call('lightsail', 'CreateInstances', { requestParameters: { instanceNames: ['m-1', 'm-2'] } }),
      call('ses', 'VerifyEmailIdentity', { requestParameters: { emailAddress: 'spam@example.com' } }),
      call('ses', 'VerifyDomainIdentity', { requestParameters: { domain: 'example.org' } }),
    ];

    const index = buildEvidenceIndex(records);

    expect(index.records).toBe(records.length);
    expect(index.indexed).toBe(records.length);
    const keys = [...index.resources.keys()];
    expect(keys).toEqual(
      expect.arrayContaining([
        'ec2/instance/eu-north-1/i-0aaa1',
        'ec2/instance/eu-north-1/i-0aaa2',
        'ec2/spot-request/eu-north-1/sir-1',
        'ec2/key-pair/eu-north-1/miner',
        'ec2/key-pair/eu-north-1/attacker-key',
        'ec2/security-group/eu-north-1/sg-new',
        'ec2/security-group/eu-north-1/sg-old',
        'ec2/image/eu-north-1/ami-1',
        'ec2/image/eu-north-1/ami-2',
        'ec2/image/eu-north-1/ami-old',
        'ec2/snapshot/eu-north-1/snap-1',
        'ec2/snapshot/eu-north-1/snap-old',
        'ec2/volume/eu-north-1/vol-1',
        // IAM is global, whatever Region the record names.
        'iam/user/global/backdoor',
        'iam/access-key/global/AKIAMINTED',
        'iam/login-profile/global/backdoor',
        'iam/access-key/global/AKIAREENABLED',
        'iam/role/global/ext',
        'iam/role/global/deploy',
        'iam/policy/global/p',
        'iam/policy-version/global/ops:v3',
        'lambda/function/eu-north-1/backdoor',
        'lambda/function-permission/eu-north-1/old/open',
        'lambda/function-url/eu-north-1/backdoor:live',
        'lightsail/instance/eu-north-1/m-1',
        'lightsail/instance/eu-north-1/m-2',
        'ses/identity/eu-north-1/spam@example.com',
        'ses/identity/eu-north-1/example.org',
      ]),
    );
    expect(index.resources.get('ec2/instance/eu-north-1/i-0aaa1')).toEqual([
      expect.objectContaining({
        eventId: 'evt-run',
        eventName: 'RunInstances',
        accessKeyId: LEAKED,
        created: true,
      }),
    ]);
    expect(index.resources.get('ec2/security-group/eu-north-1/sg-old')?.[0].created).toBe(false);
  });

  it('skips failed calls, other keys, unknown calls and unreadable records', () => {
    const index = buildEvidenceIndex(
      [
        call('ec2', 'RunInstances', {
          errorCode: 'Client.UnauthorizedOperation',
          responseElements: { instancesSet: { items: [{ instanceId: 'i-denied' }] } },
        }),
        call('ec2', 'CreateKeyPair', {
          userIdentity: { accessKeyId: OTHER },
          requestParameters: { keyName: 'someone-else' },
        }),
        call('ec2', 'CreateKeyPair', {
          userIdentity: { accessKeyId: SESSION },
          requestParameters: { keyName: 'pivot' },
        }),
        call('s3', 'PutBucketPolicy', { requestParameters: { bucketName: 'b' } }),
        // Deactivating is what the responder does, not the attacker's persistence.
        call('iam', 'UpdateAccessKey', { requestParameters: { accessKeyId: 'AKIA1', status: 'Inactive' } }),
        '{not json',
      ],
      { keys: [LEAKED, SESSION] },
    );

    expect(index.records).toBe(6);
    expect([...index.resources.keys()]).toEqual(['ec2/key-pair/eu-north-1/pivot']);
  });

  it('records guard rails the key weakened', () => {
    const index = newEvidenceIndex();
    indexRecord(
      index,
      call('cloudtrail', 'StopLogging', { awsRegion: 'us-east-1', requestParameters: { name: 'main' } }),
    );
    indexRecord(index, call('cloudtrail', 'PutEventSelectors', { requestParameters: { trailName: 'eu' } }));
    indexRecord(
      index,
      call('guardduty', 'UpdateDetector', { requestParameters: { detectorId: 'd1', enable: true } }),
    );
    indexRecord(
      index,
      call('guardduty', 'UpdateDetector', { requestParameters: { detectorId: 'd1', enable: false } }),
    );

    expect(index.guardRails.map((g) => [g.kind, g.target, g.action, g.region])).toEqual([
      ['trail', 'main', 'stopped', 'us-east-1'],
      ['trail', 'eu', 'selectors-changed', 'eu-north-1'],
      ['detector', 'd1', 'disabled', 'eu-north-1'],
    ]);
  });

  it('keeps the evidence of one resource in time order, once per event', () => {
    const later = call('ec2', 'AuthorizeSecurityGroupIngress', {
      eventTime: '2026-11-21T10:00:00Z',
      requestParameters: { groupId: 'sg-1' },
    });
    const earlier = call('ec2', 'CreateSecurityGroup', {
      eventTime: '2026-11-21T09:00:00Z',
      responseElements: { groupId: 'sg-1' },
    });
    const index = buildEvidenceIndex([later, earlier, later]);

    expect(
      index.resources
        .get(resourceKey('ec2', 'security-group', 'eu-north-1', 'sg-1'))
        ?.map((e) => e.eventName),
    ).toEqual(['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress']);
  });
});

describe('attribute', () => {
  const index = buildEvidenceIndex([
    call('ec2', 'RunInstances', {
      eventID: 'evt-run',
      responseElements: { instancesSet: { items: [{ instanceId: 'i-miner' }] } },
    }),
    call('ec2', 'RequestSpotInstances', {
      eventID: 'evt-spot',
      responseElements: { spotInstanceRequestSet: { items: [{ spotInstanceRequestId: 'sir-1' }] } },
    }),
    call('ec2', 'AuthorizeSecurityGroupIngress', {
      eventID: 'evt-sg',
      requestParameters: { groupId: 'sg-old' },
    }),
    call('iam', 'UpdateAssumeRolePolicy', {
      eventID: 'evt-trust',
      awsRegion: 'us-east-1',
      requestParameters: { roleName: 'deploy' },
    }),
    call('iam', 'CreateRole', {
      eventID: 'evt-role',
      awsRegion: 'us-east-1',
      requestParameters: { roleName: 'ext' },
    }),
  ]);

  it('marks what the key made, keeps what is new without evidence, drops what is old', () => {
    const result = attribute(
      [
        item('ec2', 'instance', 'i-miner', { createdAt: NEW, estimatedHourlyUsd: 0.526 }),
        item('ec2', 'instance', 'i-colleague', { createdAt: NEW }),
        item('ec2', 'instance', 'i-web', { createdAt: OLD }),
        item('ec2', 'key-pair', 'old-key', { createdAt: OLD }),
      ],
      index,
      EXPOSURE,
    );

    expect(result.map((i) => [i.id, i.createdByKey, i.evidenceEventId])).toEqual([
      ['i-miner', true, 'evt-run'],
      ['i-colleague', 'unknown', undefined],
    ]);
    expect(result[0].details?.evidence).toEqual(
      expect.objectContaining({ eventName: 'RunInstances', accessKeyId: LEAKED, created: true }),
    );
  });

  it('keeps an old item the key changed, with the change as evidence', () => {
    const changes = buildEvidenceIndex([
      call('ec2', 'StartInstances', {
        eventID: 'evt-start',
        requestParameters: { instancesSet: { items: [{ instanceId: 'i-owner' }] } },
      }),
      call('iam', 'UpdateAccessKey', {
        eventID: 'evt-reenable',
        requestParameters: { userName: 'old', accessKeyId: 'AKIAOLD', status: 'Active' },
      }),
    ]);

    const [group] = attribute([item('ec2', 'security-group', 'sg-old')], index, EXPOSURE);
    const changed = attribute(
      [
        item('ec2', 'instance', 'i-owner', { createdAt: OLD }),
        item('iam', 'access-key', 'AKIAOLD', { region: 'global', createdAt: OLD }),
      ],
      changes,
      EXPOSURE,
    );

    expect(group).toMatchObject({ createdByKey: true, evidenceEventId: 'evt-sg' });
    expect(changed.map((i) => [i.id, i.evidenceEventId, i.details?.evidence])).toEqual([
      ['i-owner', 'evt-start', expect.objectContaining({ eventName: 'StartInstances', created: false })],
      ['AKIAOLD', 'evt-reenable', expect.objectContaining({ eventName: 'UpdateAccessKey', created: false })],
    ]);
  });

  it('gives a Spot instance its request, and a volume its instance', () => {
    const result = attribute(
      [
        item('ec2', 'instance', 'i-spot', { createdAt: NEW, details: { spotInstanceRequestId: 'sir-1' } }),
        item('ec2', 'volume', 'vol-root', { createdAt: NEW, details: { attachedTo: ['i-spot'] } }),
        item('ec2', 'volume', 'vol-other', { createdAt: NEW, details: { attachedTo: ['i-unknown'] } }),
      ],
      index,
      EXPOSURE,
    );

    expect(result.map((i) => [i.id, i.createdByKey, i.evidenceEventId])).toEqual([
      ['i-spot', true, 'evt-spot'],
      ['vol-root', true, 'evt-spot'],
      ['vol-other', 'unknown', undefined],
    ]);
    expect(result[1].details?.evidence).toMatchObject({ via: 'instance i-spot' });
  });

  it('restores the trust of an old role the key rewrote, and deletes a role it made', () => {
    const result = attribute(
      [
        item('iam', 'role', 'deploy', {
          region: 'global',
          createdAt: OLD,
          cleanup: 'aws iam delete-role --role-name deploy',
        }),
        item('iam', 'role', 'ext', {
          region: 'global',
          createdAt: NEW,
          cleanup: 'aws iam delete-role --role-name ext',
        }),
      ],
      index,
      EXPOSURE,
    );

    const deploy = result.find((i) => i.id === 'deploy') as InventoryItem;
    expect(deploy).toMatchObject({ createdByKey: true, evidenceEventId: 'evt-trust' });
    expect(deploy.cleanup).toBe(
      'aws iam update-assume-role-policy --role-name deploy --policy-document file://previous-trust-policy.json',
    );
    expect(result.find((i) => i.id === 'ext')?.cleanup).toBe('aws iam delete-role --role-name ext');
  });

  it('keeps undated items unless the key activity of their Region was read completely', () => {
    const items = [
      item('ec2', 'security-group', 'sg-web'),
      item('ses', 'identity', 'news@example.com', { region: 'eu-west-1' }),
      item('lambda', 'function-permission', 'f/open', { region: 'ap-south-1' }),
    ];

    const result = attribute(items, index, EXPOSURE, {
      completeRegions: new Set(['eu-north-1', 'eu-west-1']),
    });

    expect(result.map((i) => [i.id, i.createdByKey])).toEqual([['f/open', 'unknown']]);
    expect(attribute(items, index, EXPOSURE)).toHaveLength(3);
  });

  const guardRails = buildEvidenceIndex([
    call('cloudtrail', 'StopLogging', {
      eventID: 'evt-stop',
      awsRegion: 'us-east-1',
      requestParameters: { name: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main` },
    }),
    call('cloudtrail', 'DeleteTrail', { eventID: 'evt-delete', requestParameters: { name: 'regional' } }),
    call('guardduty', 'DeleteDetector', { eventID: 'evt-gd', requestParameters: { detectorId: 'det-1' } }),
  ]);

  it('makes findings of guard rails the key switched off, and keeps healthy ones for context', () => {
    const trail = (id: string, status: string, region = 'us-east-1'): InventoryItem =>
      item('cloudtrail', 'guard-rail', id, {
        region,
        arn: `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${id}`,
        details: { kind: 'trail', status },
      });

    const result = attribute(
      [trail('main', 'off'), trail('healthy', 'ok'), trail('broken', 'off')],
      guardRails,
      EXPOSURE,
    );

    const byId = Object.fromEntries(result.map((i) => [i.id, i]));
    expect(byId.main).toMatchObject({ createdByKey: true, evidenceEventId: 'evt-stop' });
    expect(byId.broken.createdByKey).toBe('unknown');
    expect(byId.healthy.createdByKey).toBe(false);
    // Deleted: nothing to inventory, so the deletion itself is the finding.
    expect(byId.regional).toMatchObject({
      service: 'cloudtrail',
      type: 'guard-rail',
      region: 'eu-north-1',
      createdByKey: true,
      evidenceEventId: 'evt-delete',
      details: expect.objectContaining({ status: 'deleted' }),
    });
    expect(byId.regional.cleanup).toContain(
      'aws cloudtrail create-trail --region eu-north-1 --name regional',
    );
    expect(byId['det-1']).toMatchObject({
      service: 'guardduty',
      createdByKey: true,
      evidenceEventId: 'evt-gd',
      cleanup: 'aws guardduty create-detector --region eu-north-1 --enable',
    });
    // The key's findings first; healthy context last.
    expect(result.at(-1)?.id).toBe('healthy');
  });

  it('does not report a deleted trail that exists again', () => {
    const recreated = item('cloudtrail', 'guard-rail', 'regional', {
      details: { kind: 'trail', status: 'ok' },
    });

    const result = attribute([recreated], guardRails, EXPOSURE).filter((i) => i.service === 'cloudtrail');

    expect(result).toEqual([
      expect.objectContaining({ id: 'regional', createdByKey: true, evidenceEventId: 'evt-delete' }),
    ]);
  });

  it('sorts the key findings first, dearest first, and leaves the input alone', () => {
    const input = [
      item('ec2', 'instance', 'i-colleague', { createdAt: NEW, estimatedHourlyUsd: 50 }),
      item('ec2', 'instance', 'i-miner', { createdAt: NEW, estimatedHourlyUsd: 0.5 }),
    ];

    const result = attribute(input, buildEvidenceIndex([]), EXPOSURE);
    const withKey = attribute(input, index, new Date(EXPOSURE));

    expect(result.map((i) => i.id)).toEqual(['i-colleague', 'i-miner']);
    expect(withKey.map((i) => i.id)).toEqual(['i-miner', 'i-colleague']);
    expect(input[1].createdByKey).toBe('unknown');
  });
});
