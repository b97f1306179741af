import {
  Analyzer,
  analyzeRecordStream,
  analyzeRecords,
  BURST_NAME,
  detectActor,
  isWrite,
  RESPONDER_USER_AGENT,
} from '../../lambdas/analyze/analyzer';
import { policyReach, RULES } from '../../lambdas/analyze/rules';
import { CATEGORY_ORDER, type CloudTrailRecord, type Finding, SEVERITIES } from '../../lambdas/analyze/types';
import {
  ACCOUNT,
  at,
  denied,
  LEAKED_KEY,
  leakedKeyScenario,
  MINTED_KEY,
  OUTSIDE_ACCOUNT,
  record,
  responderIdentity,
  SESSION_KEY,
  USER,
} from '../fixtures/cloudtrail/scenario';

/** The findings for one record analyzed on its own. */
function findingsOf(r: CloudTrailRecord): Finding[] {
  return analyzeRecords([r]).findings;
}

function only(r: CloudTrailRecord): Finding {
  const findings = findingsOf(r);
  expect(findings).toHaveLength(1);
  return findings[0];
}

const trust = (principal: unknown, condition?: unknown) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: principal,
        Action: 'sts:AssumeRole',
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });

describe('the rule catalog', () => {
  it('is reviewed: every entry has a known category and severity, an ATT&CK id, why and todo', () => {
    const ids = new Set<string>();
    for (const rule of RULES) {
      expect(ids.has(rule.id)).toBe(false);
      ids.add(rule.id);
      expect(CATEGORY_ORDER).toContain(rule.category);
      expect(SEVERITIES).toContain(rule.severity);
      expect(rule.technique).toMatch(rule.category === 'containment' ? /^-$/ : /^T\d{4}(\.\d{3})?$/);
      expect(rule.why.length).toBeGreaterThan(15);
      expect(rule.todo.length).toBeGreaterThan(5);
      expect(rule.names.length).toBeGreaterThan(0);
      expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
  });

  it('covers the categories the issue asks for', () => {
    const categories = new Set(RULES.map((r) => r.category));
    for (const category of [
      'reconnaissance',
      'persistence',
      'privilege-escalation',
      'defense-evasion',
      'credential-access',
      'compute-hijacking',
      'exfiltration',
      'ses-abuse',
      'organization-change',
      'pivot',
      'impact',
    ] as const) {
      expect(categories).toContain(category);
    }
  });
});

describe('classification', () => {
  it('reads GetCallerIdentity as the first reconnaissance call', () => {
    const f = only(record('sts.amazonaws.com', 'GetCallerIdentity', { readOnly: true }));
    expect(f).toMatchObject({
      category: 'reconnaissance',
      severity: 'low',
      technique: 'T1087.004',
      actor: 'attacker',
    });
  });

  it('tells an administrator policy from any other attached policy', () => {
    const admin = only(
      record('iam.amazonaws.com', 'AttachUserPolicy', {
        requestParameters: { userName: 'x', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      }),
    );
    const other = only(
      record('iam.amazonaws.com', 'AttachRolePolicy', {
        requestParameters: { roleName: 'x', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
      }),
    );
    expect(admin).toMatchObject({
      category: 'privilege-escalation',
      severity: 'critical',
      technique: 'T1098.003',
    });
    expect(other).toMatchObject({ category: 'privilege-escalation', severity: 'high' });
    expect(admin.resources).toEqual(['x', 'arn:aws:iam::aws:policy/AdministratorAccess']);
  });

  it('reads inline policy documents: "*" is critical, deny-only is an impact, anything else high', () => {
    const put = (document: unknown) =>
      only(
        record('iam.amazonaws.com', 'PutUserPolicy', {
          requestParameters: { userName: 'x', policyName: 'p', policyDocument: JSON.stringify(document) },
        }),
      );
    const allowAll = put({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
    const iamStar = put({ Statement: { Effect: 'Allow', Action: ['iam:*'], Resource: ['*'] } });
    const denyOnly = put({ Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });
    const narrow = put({
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
    });
    expect(allowAll.severity).toBe('critical');
    expect(iamStar.severity).toBe('critical');
    expect(denyOnly).toMatchObject({ category: 'impact', severity: 'medium' });
    expect(narrow).toMatchObject({ category: 'privilege-escalation', severity: 'high' });
  });

  it('flags a role trust opened to another account or to anyone, even behind an ExternalId', () => {
    const create = (document: string) =>
      only(
        record('iam.amazonaws.com', 'CreateRole', {
          requestParameters: { roleName: 'r', assumeRolePolicyDocument: document },
        }),
      );
    expect(create(trust({ AWS: `arn:aws:iam::${OUTSIDE_ACCOUNT}:root` })).severity).toBe('critical');
    expect(create(trust({ AWS: `arn:aws:iam::${ACCOUNT}:root` })).severity).toBe('high');
    expect(create(trust({ Service: 'ec2.amazonaws.com' })).severity).toBe('high');
    const update = only(
      record('iam.amazonaws.com', 'UpdateAssumeRolePolicy', {
        requestParameters: {
          roleName: 'r',
          policyDocument: trust('*', { StringEquals: { 'sts:ExternalId': '1' } }),
        },
      }),
    );
    expect(update).toMatchObject({ category: 'persistence', severity: 'critical', technique: 'T1098.003' });
  });

  it('opens ingress to the world only for 0.0.0.0/0 or ::/0', () => {
    const ingress = (ranges: unknown) =>
      only(
        record('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', {
          requestParameters: {
            groupId: 'sg-1',
            ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, ...(ranges as object) }] },
          },
        }),
      );
    expect(ingress({ ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }).severity).toBe('high');
    expect(ingress({ ipv6Ranges: { items: [{ cidrIpv6: '::/0' }] } }).severity).toBe('high');
    expect(ingress({ ipRanges: { items: [{ cidrIp: '198.51.100.7/32' }] } }).severity).toBe('medium');
  });

  it('grades snapshot and AMI sharing: public, another account, or a removal', () => {
    const share = (name: string, attribute: string, change: unknown) =>
      findingsOf(record('ec2.amazonaws.com', name, { requestParameters: { [attribute]: change } }));
    expect(
      share('ModifySnapshotAttribute', 'createVolumePermission', { add: { items: [{ group: 'all' }] } })[0],
    ).toMatchObject({
      category: 'exfiltration',
      severity: 'critical',
      technique: 'T1537',
    });
    expect(
      share('ModifyImageAttribute', 'launchPermission', { add: { items: [{ userId: OUTSIDE_ACCOUNT }] } })[0]
        .severity,
    ).toBe('high');
    const removal = share('ModifySnapshotAttribute', 'createVolumePermission', {
      remove: { items: [{ userId: '1' }] },
    });
    expect(removal.map((f) => f.category)).toEqual(['other-change']);
  });

  it('reads bucket policies: anyone, another account, or tied to the organization', () => {
    const put = (statement: object) =>
      only(
        record('s3.amazonaws.com', 'PutBucketPolicy', {
          requestParameters: {
            bucketName: 'b',
            bucketPolicy: { Version: '2012-10-17', Statement: [statement] },
          },
        }),
      );
    const base = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
    expect(put({ ...base, Principal: '*' }).severity).toBe('critical');
    // An attacker opening a bucket to their own address is still open to them.
    expect(
      put({ ...base, Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.66/32' } } })
        .severity,
    ).toBe('critical');
    expect(put({ ...base, Principal: { AWS: `arn:aws:iam::${OUTSIDE_ACCOUNT}:root` } })).toMatchObject({
      severity: 'high',
      technique: 'T1537',
    });
    expect(
      put({ ...base, Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } } })
        .severity,
    ).toBe('medium');
  });

  it('calls GPU and very large instances critical, others high, whatever shape instanceType has', () => {
    const run = (instanceType: unknown) =>
      only(record('ec2.amazonaws.com', 'RunInstances', { requestParameters: { instanceType } })).severity;
    expect(run('g5.xlarge')).toBe('critical');
    expect(run('p4d.24xlarge')).toBe('critical');
    expect(run({ value: 'm5.16xlarge' })).toBe('critical');
    expect(run('t3.micro')).toBe('high');
  });

  it('treats a user data change as persistence and other instance attribute changes as plain changes', () => {
    const userData = only(
      record('ec2.amazonaws.com', 'ModifyInstanceAttribute', {
        requestParameters: { instanceId: 'i-1', userData: '<sensitiveDataRemoved>' },
      }),
    );
    const type = only(
      record('ec2.amazonaws.com', 'ModifyInstanceAttribute', {
        requestParameters: { instanceId: 'i-1', instanceType: { value: 't3.large' } },
      }),
    );
    expect(userData).toMatchObject({ category: 'persistence', severity: 'high', technique: 'T1059.009' });
    expect(type).toMatchObject({ category: 'other-change', severity: 'low' });
  });

  it("matches Lambda's versioned event names", () => {
    expect(only(record('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2')).category).toBe('persistence');
    expect(only(record('lambda.amazonaws.com', 'CreateFunction20150331')).technique).toBe('T1648');
  });

  it('gives one finding per meaning when one call does several things', () => {
    const findings = findingsOf(
      record('rds.amazonaws.com', 'ModifyDBInstance', {
        requestParameters: {
          dBInstanceIdentifier: 'db',
          publiclyAccessible: true,
          deletionProtection: false,
        },
      }),
    );
    expect(findings.map((f) => f.category).sort()).toEqual(['exfiltration', 'impact']);
  });

  it('keeps failed risky calls as attempts, one severity lower and marked failed', () => {
    const f = only(
      denied('cloudtrail.amazonaws.com', 'StopLogging', { requestParameters: { name: 'trail' } }),
    );
    expect(f).toMatchObject({ category: 'defense-evasion', severity: 'high', failed: true });
    expect(f.why).toMatch(/^Attempted, failed \(AccessDenied\)/);
  });

  it('says when a dry run proves the permission exists', () => {
    const f = only(
      record('ec2.amazonaws.com', 'RunInstances', {
        errorCode: 'Client.DryRunOperation',
        requestParameters: { instanceType: 'p3.2xlarge' },
      }),
    );
    expect(f).toMatchObject({ severity: 'high', failed: true });
    expect(f.why).toMatch(/holds this permission/);
  });

  it('lists successful writes the catalog does not know, ignores unknown reads', () => {
    expect(only(record('ec2.amazonaws.com', 'CreateVpc'))).toMatchObject({
      category: 'other-change',
      severity: 'low',
    });
    expect(findingsOf(record('ec2.amazonaws.com', 'DescribeVpcs', { readOnly: true }))).toEqual([]);
    // The verb wins over a wrong readOnly flag.
    expect(findingsOf(record('cloudtrail.amazonaws.com', 'DescribeTrails', { readOnly: false }))).toEqual([]);
    expect(only(denied('ec2.amazonaws.com', 'CreateVpc'))).toMatchObject({ severity: 'info', failed: true });
  });
});

describe('who acted', () => {
  it("labels AWS's quarantine as AWS containment, never the attacker", () => {
    const f = only(
      record('iam.amazonaws.com', 'AttachUserPolicy', {
        userIdentity: { type: 'AWSService', invokedBy: 'AWS Internal' },
        sourceIPAddress: 'AWS Internal',
        requestParameters: {
          userName: USER,
          policyArn: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2',
        },
      }),
    );
    expect(f).toMatchObject({ actor: 'aws', category: 'containment', severity: 'info', technique: '-' });
  });

  it('labels service-linked roles as AWS and caps their findings at low', () => {
    const f = only(
      record('ec2.amazonaws.com', 'RunInstances', {
        userIdentity: {
          type: 'AssumedRole',
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling`,
          invokedBy: 'autoscaling.amazonaws.com',
        },
        sourceIPAddress: 'autoscaling.amazonaws.com',
        requestParameters: { instanceType: 'p3.16xlarge' },
      }),
    );
    expect(f).toMatchObject({ actor: 'aws', category: 'compute-hijacking', severity: 'low' });
    expect(f.why).toMatch(/^Made by AWS/);
  });

  it('keeps calls a service made with the attacker identity (CloudFormation, console) as the attacker', () => {
    const viaStack = record('iam.amazonaws.com', 'CreateAccessKey', {
      sourceIPAddress: 'cloudformation.amazonaws.com',
      userIdentity: { ...record('x', 'y').userIdentity, invokedBy: 'cloudformation.amazonaws.com' },
      requestParameters: { userName: 'other' },
    });
    const viaConsole = record('iam.amazonaws.com', 'CreateUser', {
      sourceIPAddress: 'AWS Internal',
      userAgent: 'AWS Internal',
    });
    expect(only(viaStack)).toMatchObject({ actor: 'attacker', severity: 'critical' });
    expect(only(viaConsole).actor).toBe('attacker');
  });

  it("labels the responder's own calls as containment", () => {
    const byRole = record('iam.amazonaws.com', 'PutUserPolicy', {
      userIdentity: responderIdentity(),
      requestParameters: {
        userName: USER,
        policyName: 'ExposedKeyResponderRevokeSessions',
        policyDocument: JSON.stringify({ Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] }),
      },
    });
    const byAgent = record('iam.amazonaws.com', 'UpdateAccessKey', {
      userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/SomeRole/s` },
      userAgent: `aws-sdk-js/3 ${RESPONDER_USER_AGENT}`,
      requestParameters: { userName: USER, accessKeyId: LEAKED_KEY, status: 'Inactive' },
    });
    expect(only(byRole)).toMatchObject({ actor: 'responder', category: 'containment', severity: 'info' });
    expect(only(byAgent)).toMatchObject({ actor: 'responder', category: 'containment' });
  });

  it('never trusts the user agent of a call made with an investigated key (it can be forged)', () => {
    const forged = record('iam.amazonaws.com', 'CreateUser', { userAgent: RESPONDER_USER_AGENT });
    expect(detectActor(forged)).toBe('responder');
    expect(detectActor(forged, { investigatedKey: true })).toBe('attacker');
    const result = analyzeRecords([forged], { keys: [LEAKED_KEY] });
    expect(result.findings[0]).toMatchObject({ actor: 'attacker', category: 'persistence' });
  });

  it('uses the responder role ARNs when given, not names', () => {
    const lookalike = record('iam.amazonaws.com', 'CreateUser', {
      userIdentity: {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ExposedKeyResponder-Fake/x`,
        sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/ExposedKeyResponder-Fake` } },
      },
    });
    const real = record('iam.amazonaws.com', 'UpdateAccessKey', { userIdentity: responderIdentity() });
    const responderRoleArns = [responderIdentity().sessionContext.sessionIssuer.arn];
    expect(detectActor(lookalike, { responderRoleArns })).toBe('attacker');
    expect(detectActor(real, { responderRoleArns })).toBe('responder');
  });
});

describe('judgement beyond the table', () => {
  const burst = (count: number, startMinute: number) =>
    Array.from({ length: count }, (_, i) =>
      denied('ec2.amazonaws.com', 'DescribeVolumes', { eventTime: at(startMinute, i * 5), readOnly: true }),
    );

  it('reports a burst of access-denied calls as one reconnaissance finding', () => {
    const { findings } = analyzeRecords(burst(12, 0));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      eventId: expect.stringMatching(/^evt-/),
      eventTime: at(0, 0),
      eventName: BURST_NAME,
      category: 'reconnaissance',
      failed: true,
      actor: 'attacker',
    });
    expect(findings[0].why).toMatch(/Burst of 12 access-denied calls/);
  });

  it('does not call a few denials a burst, and splits bursts separated by a quiet gap', () => {
    expect(analyzeRecords(burst(9, 0)).findings).toEqual([]);
    const twoBursts = analyzeRecords([...burst(10, 0), ...burst(10, 30)]).findings;
    expect(twoBursts.map((f) => f.eventTime)).toEqual([at(0, 0), at(30, 0)]);
  });

  it('sorts by severity, then by the order of danger, then by time', () => {
    const { findings } = analyzeRecords([
      record('sts.amazonaws.com', 'GetCallerIdentity', { readOnly: true, eventTime: at(0) }),
      record('secretsmanager.amazonaws.com', 'GetSecretValue', { eventTime: at(1) }),
      record('iam.amazonaws.com', 'CreateUser', { eventTime: at(2) }),
      record('iam.amazonaws.com', 'CreateAccessKey', { eventTime: at(3) }),
    ]);
    expect(findings.map((f) => f.eventName)).toEqual([
      'CreateAccessKey',
      'CreateUser',
      'GetSecretValue',
      'GetCallerIdentity',
    ]);
  });

  it('drops the lowest severities first when the finding cap is reached, and counts them', () => {
    const records = [
      ...Array.from({ length: 5 }, (_, i) =>
        record('iam.amazonaws.com', 'ListUsers', { readOnly: true, eventTime: at(i) }),
      ),
      record('iam.amazonaws.com', 'CreateAccessKey', { eventTime: at(9) }),
    ];
    const { findings, summary } = analyzeRecords(records, { maxFindings: 3 });
    expect(findings).toHaveLength(3);
    expect(findings[0].severity).toBe('critical');
    expect(summary.findings).toMatchObject({ total: 6, omitted: 3 });
    expect(summary.findings.bySeverity).toMatchObject({ critical: 1, info: 5 });
  });

  it('counts records that are not CloudTrail records instead of throwing', () => {
    const analyzer = new Analyzer();
    analyzer.add({ note: 'x' } as unknown as CloudTrailRecord);
    analyzer.add(null as unknown as CloudTrailRecord);
    expect(analyzer.result().summary.records).toMatchObject({ seen: 2, invalid: 2, analyzed: 0 });
  });
});

describe('summary', () => {
  const result = analyzeRecords(leakedKeyScenario());
  const { summary } = result;

  it('gives first and last use, error ratio and per-value counts with first and last seen', () => {
    expect(summary.firstUse).toBe(at(0, 32));
    expect(summary.lastUse).toBe(at(12));
    expect(summary.records.byActor).toEqual({ attacker: 28, aws: 1, responder: 1 });
    expect(summary.errorRatio).toBeCloseTo(15 / 28);
    expect(summary.regions[0]).toEqual({
      value: 'us-east-1',
      count: 23,
      firstSeen: at(0, 32),
      lastSeen: at(12),
    });
    expect(summary.regions.map((r) => r.value).sort()).toEqual([
      'ap-southeast-2',
      'eu-north-1',
      'eu-west-1',
      'us-east-1',
    ]);
    expect(summary.sourceIps).toEqual([
      { value: '203.0.113.66', count: 28, firstSeen: at(0, 32), lastSeen: at(12) },
    ]);
    expect(summary.userAgents[0].value).toBe('python-requests/2.31.0');
    expect(summary.errorCodes.map((e) => [e.value, e.count])).toEqual([
      ['AccessDenied', 14],
      ['Client.UnauthorizedOperation', 1],
    ]);
  });

  it('reads created resources from responseElements', () => {
    expect(summary.resourcesCreated.map((r) => [r.type, r.id, r.region])).toEqual([
      ['iam:access-key', MINTED_KEY, 'us-east-1'],
      ['ec2:instance', 'i-0aaaaaaaaaaaaaaa1', 'eu-north-1'],
      ['ec2:instance', 'i-0aaaaaaaaaaaaaaa2', 'eu-north-1'],
    ]);
  });

  it('lists the keys the attacker minted as pivot keys', () => {
    expect(summary.pivotKeys).toEqual([
      expect.objectContaining({
        accessKeyId: MINTED_KEY,
        kind: 'access-key',
        via: 'CreateAccessKey',
        principal: 'deploy-bot',
      }),
      expect.objectContaining({ accessKeyId: SESSION_KEY, kind: 'session', via: 'GetSessionToken' }),
    ]);
  });

  it('answers the questions in order of danger: done, only attempted, or not seen', () => {
    const answer = (category: string) => summary.verdict.find((v) => v.category === category)?.answer;
    expect(summary.verdict.map((v) => v.category)).toEqual(CATEGORY_ORDER.filter((c) => c !== 'containment'));
    expect(answer('persistence')).toBe('yes');
    expect(answer('privilege-escalation')).toBe('attempted');
    expect(answer('compute-hijacking')).toBe('yes');
    expect(answer('ses-abuse')).toBe('no');
    expect(answer('reconnaissance')).toBe('yes');
    expect(summary.verdict.find((v) => v.category === 'persistence')).toMatchObject({
      highestSeverity: 'critical',
      findings: 2,
      failed: 1,
    });
  });

  it('counts plain reads as looking around even when none is flagged', () => {
    const reads = analyzeRecords([
      record('ec2.amazonaws.com', 'DescribeVpcs', { readOnly: true }),
      record('ec2.amazonaws.com', 'DescribeSubnets', { readOnly: true }),
    ]).summary.verdict.find((v) => v.category === 'reconnaissance');
    const denials = analyzeRecords([denied('ec2.amazonaws.com', 'DescribeVpcs', { readOnly: true })]).summary
      .verdict;
    expect(reads).toMatchObject({ answer: 'yes', findings: 0, readCalls: 2 });
    expect(denials.find((v) => v.category === 'reconnaissance')).toMatchObject({
      answer: 'attempted',
      readCalls: 1,
    });
  });

  it('reports the access-denied burst of the scenario', () => {
    expect(result.findings.filter((f) => f.eventName === BURST_NAME)).toHaveLength(1);
  });
});

describe('key filter and pivots', () => {
  it("keeps only the key's records and follows the session key it mints", () => {
    const mixed = [
      record('sts.amazonaws.com', 'GetSessionToken', {
        eventTime: at(0),
        responseElements: { credentials: { accessKeyId: SESSION_KEY } },
      }),
      record('iam.amazonaws.com', 'CreateUser', {
        eventTime: at(1),
        userIdentity: {
          type: 'IAMUser',
          accessKeyId: SESSION_KEY,
          arn: `arn:aws:iam::${ACCOUNT}:user/${USER}`,
        },
      }),
      record('iam.amazonaws.com', 'CreateUser', {
        eventTime: at(2),
        userIdentity: {
          type: 'IAMUser',
          accessKeyId: 'AKIA2EXAMPLEOTHER234',
          arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
        },
      }),
    ];
    const analyzer = new Analyzer({ keys: [LEAKED_KEY] });
    for (const r of mixed) analyzer.add(r);
    const { summary, findings } = analyzer.result();
    expect(summary.records).toMatchObject({ seen: 3, analyzed: 2, filteredOut: 1 });
    // Both high: persistence comes before pivot in the order of danger.
    expect(findings.map((f) => f.eventName)).toEqual(['CreateUser', 'GetSessionToken']);
    expect(analyzer.pivotsNeedingSecondPass()).toEqual([]);
  });

  it('asks for a second pass when a pivot key was used before it was minted in reading order', () => {
    const analyzer = new Analyzer({ keys: [LEAKED_KEY] });
    analyzer.add(
      record('iam.amazonaws.com', 'CreateUser', {
        eventTime: at(5),
        userIdentity: { type: 'IAMUser', accessKeyId: SESSION_KEY },
      }),
    );
    analyzer.add(
      record('sts.amazonaws.com', 'GetSessionToken', {
        responseElements: { credentials: { accessKeyId: SESSION_KEY } },
      }),
    );
    expect(analyzer.pivotsNeedingSecondPass()).toEqual([SESSION_KEY]);
  });
});

describe('helpers', () => {
  it('decides reads by verb first, then by the readOnly flag', () => {
    expect(isWrite(record('ec2.amazonaws.com', 'DescribeInstances', { readOnly: false }))).toBe(false);
    expect(isWrite(record('iam.amazonaws.com', 'DetachUserGroup', { readOnly: true }))).toBe(false);
    expect(isWrite(record('iam.amazonaws.com', 'CreateUser', { readOnly: undefined }))).toBe(true);
  });

  it('reads principals of resource policies, string or object', () => {
    const policy = (principal: unknown, condition?: unknown) => JSON.parse(trust(principal, condition));
    expect(policyReach(policy('*'), ACCOUNT)).toBe('public');
    expect(policyReach(policy({ AWS: [`arn:aws:iam::${ACCOUNT}:role/a`, OUTSIDE_ACCOUNT] }), ACCOUNT)).toBe(
      'other-account',
    );
    expect(
      policyReach(policy({ AWS: '*' }, { StringEquals: { 'aws:SourceAccount': ACCOUNT } }), ACCOUNT),
    ).toBe('contained');
    // A condition naming the attacker's own account restricts nothing.
    const theirs = { StringEquals: { 'aws:SourceAccount': OUTSIDE_ACCOUNT } };
    expect(policyReach(policy({ AWS: '*' }, theirs), ACCOUNT)).toBe('public');
    const ours = { ArnLike: { 'aws:SourceArn': `arn:aws:sns:us-east-1:${ACCOUNT}:topic` } };
    expect(policyReach(policy('*', ours), ACCOUNT)).toBe('contained');
    expect(policyReach(undefined, ACCOUNT)).toBe('contained');
  });

  it('analyzes an async stream the same as a list', async () => {
    async function* stream() {
      yield* leakedKeyScenario();
    }
    const fromStream = await analyzeRecordStream(stream());
    expect(fromStream.summary.findings.total).toBe(
      analyzeRecords(leakedKeyScenario()).summary.findings.total,
    );
  });
});
