import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudTrailClient, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { EC2Client, EC2ServiceException, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  GetUserCommand,
  IAMClient,
  IAMServiceException,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { LightsailClient } from '@aws-sdk/client-lightsail';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetFederationTokenCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { pivotOf } from '../../lambdas/collect/pivots';
import {
  cloudTrailDate,
  DEFAULT_SCENARIO_FILE,
  DEFAULT_SOURCE_IP,
  loadScenario,
  parseScenario,
  runScenario,
  type Scenario,
  type ScenarioContext,
  ScenarioError,
  ScenarioRunError,
  scenarioDurationMs,
  stepOffsetsMs,
} from '../../scripts/scenario/scenario';
import type { CloudTrailRecord } from '../../scripts/standins/cloudtrail';

const ACCOUNT = '123456789012';
const LEAKED_KEY = 'AKIAQLEAKEDLEAKED001';
const START = new Date('2026-11-24T10:00:00Z');
const dir = mkdtempSync(path.join(tmpdir(), 'ekr-scenario-'));

function file(name: string, text: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, text);
  return full;
}

function scenarioError(fn: () => unknown): ScenarioError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ScenarioError) return error;
    throw error;
  }
  throw new Error('expected a ScenarioError');
}

async function runError(promise: Promise<unknown>): Promise<ScenarioRunError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ScenarioRunError) return error;
    throw error;
  }
  throw new Error('expected a ScenarioRunError');
}

describe('loadScenario', () => {
  it('loads the default scenario: a realistic ten-minute leak', () => {
    const scenario = loadScenario(DEFAULT_SCENARIO_FILE);

    const calls = scenario.steps.map((s) => `${s.service}:${s.action}`);
    expect(calls).toEqual(
      expect.arrayContaining([
        'sts:GetCallerIdentity',
        'ses:GetSendQuota',
        'iam:CreateUser',
        'iam:CreateAccessKey',
        'iam:AttachUserPolicy',
        'ec2:DescribeRegions',
        'ec2:RunInstances',
        'sts:GetSessionToken',
        'cloudtrail:StopLogging',
      ]),
    );
    expect(scenario.steps.length).toBeGreaterThanOrEqual(12);
    expect(scenario.steps.length).toBeLessThanOrEqual(20);
    const gpuRegions = scenario.steps
      .filter((s) => s.action === 'RunInstances' && s.as === undefined)
      .map((s) => s.region);
    expect(new Set(gpuRegions).size).toBe(3);
    expect(scenario.steps.some((s) => s.as === 'session' && s.action === 'RunInstances')).toBe(true);
    expect(scenario.steps.find((s) => s.action === 'StopLogging')?.outcome).toBe('AccessDenied');
    const duration = scenarioDurationMs(scenario);
    expect(duration).toBeGreaterThan(8 * 60_000);
    expect(duration).toBeLessThanOrEqual(10 * 60_000);
  });

  it('reads JSON as well, and spaces steps without `at` 5-20 s apart', () => {
    const scenario = loadScenario(
      file(
        'small.json',
        JSON.stringify({
          steps: [
            { region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity' },
            { region: 'us-east-1', service: 'iam', action: 'ListUsers' },
            { region: 'us-east-1', service: 'iam', action: 'ListRoles', at: '+2m' },
            { region: 'us-east-1', service: 'iam', action: 'ListGroups' },
          ],
        }),
      ),
    );

    const offsets = stepOffsetsMs(scenario);
    expect(offsets[0]).toBe(0);
    expect(offsets[2]).toBe(120_000);
    for (const [a, b] of [
      [0, 1],
      [2, 3],
    ] as const) {
      const gap = (offsets[b] ?? 0) - (offsets[a] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(5_000);
      expect(gap).toBeLessThanOrEqual(20_000);
    }
    expect(stepOffsetsMs(scenario)).toEqual(offsets); // the same on every run
  });

  it('names the file when it cannot be read or parsed', () => {
    expect(scenarioError(() => loadScenario(path.join(dir, 'missing.yaml'))).message).toMatch(
      /missing\.yaml: cannot read the file \(ENOENT\)/,
    );
    const yaml = file('broken.yaml', 'steps:\n  - region: [us-east-1\n');
    expect(scenarioError(() => loadScenario(yaml)).message).toContain(`${yaml}: not valid YAML`);
    const json = file('broken.json', '{"steps": [');
    expect(scenarioError(() => loadScenario(json)).message).toContain(`${json}: not valid JSON`);
  });

  const ok = { region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity' };
  it.each([
    ['no steps', { steps: [] }, undefined, 'steps', /at least one step/],
    [
      'an unknown top-level field',
      { steps: [ok], stepz: [] },
      undefined,
      undefined,
      /unknown field\(s\) stepz/,
    ],
    [
      'an uninstalled service',
      { steps: [ok, { ...ok, service: 'nosuchservice' }] },
      1,
      'service',
      /client-nosuchservice is not installed/,
    ],
    [
      'an unknown action',
      { steps: [{ ...ok, service: 'ec2', action: 'RunInstance' }] },
      0,
      'action',
      /no RunInstanceCommand/,
    ],
    ['a bad Region', { steps: [{ ...ok, region: 'moon-base-1' }] }, 0, 'region', /AWS Region/],
    ['a global "Region"', { steps: [{ ...ok, region: 'global' }] }, 0, 'region', /AWS Region/],
    [
      'a Region without Lightsail',
      { steps: [{ ...ok, service: 'lightsail', action: 'GetInstances', region: 'me-south-1' }] },
      0,
      'region',
      /Lightsail is not offered in me-south-1/,
    ],
    [
      'an unknown credential',
      { steps: [{ ...ok, as: 'session' }] },
      0,
      'as',
      /no credential named "session".*known: leaked/,
    ],
    [
      'a credential used before it is minted',
      {
        steps: [
          { ...ok, as: 'session' },
          { ...ok, action: 'GetSessionToken', saveAs: 'session' },
        ],
      },
      0,
      'as',
      /no credential named "session"/,
    ],
    [
      'saveAs on a call that mints nothing',
      { steps: [{ ...ok, saveAs: 'x' }] },
      0,
      'saveAs',
      /only calls that return a credential/,
    ],
    [
      'saveAs on a refused call',
      { steps: [{ ...ok, action: 'GetSessionToken', saveAs: 's', outcome: 'AccessDenied' }] },
      0,
      'saveAs',
      /returns no credential/,
    ],
    [
      'a credential name used twice',
      {
        steps: [
          { ...ok, action: 'GetSessionToken', saveAs: 's' },
          { ...ok, action: 'GetSessionToken', saveAs: 's' },
        ],
      },
      1,
      'saveAs',
      /already taken/,
    ],
    [
      'the reserved name',
      { steps: [{ ...ok, action: 'GetSessionToken', saveAs: 'leaked' }] },
      0,
      'saveAs',
      /already taken/,
    ],
    ['a misspelt field', { steps: [{ ...ok, param: {} }] }, 0, undefined, /unknown field\(s\) param/],
    ['a bad offset', { steps: [{ ...ok, at: '30s' }] }, 0, 'at', /offset from the start/],
    ['an empty offset', { steps: [{ ...ok, at: '+' }] }, 0, 'at', /offset from the start/],
    ['params that are not an object', { steps: [{ ...ok, params: [1] }] }, 0, 'params', /expected record/],
    [
      'an unknown placeholder',
      { steps: [{ ...ok, service: 'iam', action: 'CreateUser', params: { UserName: '{{VICTIM}}' } }] },
      0,
      'params.UserName',
      /unknown placeholder \{\{VICTIM\}\}/,
    ],
  ])('refuses %s, naming the step and the field', (_, data, stepIndex, field, problem) => {
    const error = scenarioError(() => parseScenario(data, 'bad.yaml'));

    expect(error.file).toBe('bad.yaml');
    expect(error.stepIndex).toBe(stepIndex);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(problem);
    expect(error.message).toMatch(/^bad\.yaml: /);
    if (stepIndex !== undefined) expect(error.message).toContain(`steps[${stepIndex}]`);
  });

  it('checks a YAML file the same way', () => {
    const yaml = file(
      'typo.yaml',
      [
        'steps:',
        '  - { region: us-east-1, service: sts, action: GetCallerIdentity }',
        '  - { region: eu-west-1, service: ec2, action: RunInstancez }',
      ].join('\n'),
    );
    const error = scenarioError(() => loadScenario(yaml));
    expect(error.message).toBe(
      `${yaml}: steps[1].action: ec2 RunInstancez: @aws-sdk/client-ec2 has no RunInstancezCommand`,
    );
  });
});

describe('runScenario (SDK mocked)', () => {
  const sts = mockClient(STSClient);
  const iam = mockClient(IAMClient);
  const ec2 = mockClient(EC2Client);
  const cloudtrail = mockClient(CloudTrailClient);
  const lightsail = mockClient(LightsailClient);
  let added: CloudTrailRecord[];
  let ctx: ScenarioContext;

  beforeEach(() => {
    for (const mock of [sts, iam, ec2, cloudtrail, lightsail]) mock.reset();
    iam.on(GetUserCommand, { UserName: 'ci-deployer' }).resolves({
      User: {
        UserName: 'ci-deployer',
        UserId: 'AIDAEXAMPLEVICTIM0001',
        Arn: `arn:aws:iam::${ACCOUNT}:user/ci-deployer`,
        Path: '/',
        CreateDate: new Date(),
      },
    });
    added = [];
    ctx = {
      endpoint: 'http://127.0.0.1:1',
      cloudTrail: { endpoint: 'http://127.0.0.1:2', addRecords: (records) => added.push(...records) },
      accountId: ACCOUNT,
      leaked: { accessKeyId: LEAKED_KEY, secretAccessKey: 'secret', userName: 'ci-deployer' },
      start: START,
    };
  });
  afterAll(() => {
    for (const mock of [sts, iam, ec2, cloudtrail, lightsail]) mock.restore();
  });

  const scenario = (steps: Scenario['steps'], extra: Partial<Scenario> = {}): Scenario => ({
    name: 'test',
    steps,
    ...extra,
  });

  async function credentialsOf(mock: { send: { getCall(n: number): { thisValue: unknown } } }, call: number) {
    const client = mock.send.getCall(call).thisValue as { config: { credentials: () => Promise<unknown> } };
    return client.config.credentials();
  }

  it('writes one record per step into the stand-in, as CloudTrail would for the leaked key', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: 'arn', UserId: 'AIDA' });
    iam.on(CreateUserCommand).resolves({
      User: {
        UserName: 'support-admin',
        UserId: 'AIDAEXAMPLEBACKDOOR01',
        Arn: `arn:aws:iam::${ACCOUNT}:user/support-admin`,
        Path: '/',
        CreateDate: new Date('2030-01-01T00:00:00Z'),
      },
    });
    iam.on(AttachUserPolicyCommand).resolves({});

    const run = await runScenario(
      scenario([
        { region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity' },
        {
          region: 'eu-west-1',
          service: 'iam',
          action: 'CreateUser',
          params: { UserName: 'support-admin' },
          at: '+40s',
        },
        {
          region: 'us-east-1',
          service: 'iam',
          action: 'AttachUserPolicy',
          params: { UserName: 'support-admin', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
          at: '+1m05s',
        },
      ]),
      ctx,
    );

    expect(added).toEqual(run.records);
    expect(run.records).toHaveLength(3);
    const [whoami, createUser, attach] = run.records as [
      CloudTrailRecord,
      CloudTrailRecord,
      CloudTrailRecord,
    ];
    for (const record of run.records) {
      expect(record).toMatchObject({
        eventVersion: expect.any(String),
        userIdentity: {
          type: 'IAMUser',
          principalId: 'AIDAEXAMPLEVICTIM0001',
          arn: `arn:aws:iam::${ACCOUNT}:user/ci-deployer`,
          accountId: ACCOUNT,
          accessKeyId: LEAKED_KEY,
          userName: 'ci-deployer',
        },
        sourceIPAddress: DEFAULT_SOURCE_IP,
        userAgent: expect.stringMatching(/^Boto3\//),
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: ACCOUNT,
        eventID: expect.stringMatching(/^[0-9a-f-]{36}$/),
        requestID: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(record.userIdentity.sessionContext).toBeUndefined();
      expect(record.errorCode).toBeUndefined();
    }
    expect(whoami).toMatchObject({
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetCallerIdentity',
      awsRegion: 'us-east-1',
      eventTime: '2026-11-24T10:00:00Z',
      readOnly: true,
      requestParameters: null,
      responseElements: null,
    });
    // IAM is recorded in us-east-1 whatever Region the client was set to.
    expect(createUser).toMatchObject({
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      awsRegion: 'us-east-1',
      eventTime: '2026-11-24T10:00:40Z',
      readOnly: false,
      requestParameters: { userName: 'support-admin' },
      responseElements: {
        user: {
          path: '/',
          userName: 'support-admin',
          userId: 'AIDAEXAMPLEBACKDOOR01',
          arn: `arn:aws:iam::${ACCOUNT}:user/support-admin`,
          createDate: 'Nov 24, 2026, 10:00:40 AM',
        },
      },
    });
    expect(attach).toMatchObject({
      eventTime: '2026-11-24T10:01:05Z',
      requestParameters: {
        userName: 'support-admin',
        policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      },
      responseElements: null,
    });
    expect(run.steps).toEqual([
      expect.objectContaining({
        index: 0,
        service: 'sts',
        action: 'GetCallerIdentity',
        as: 'leaked',
        ok: true,
      }),
      expect.objectContaining({ index: 1, region: 'eu-west-1', ok: true, createdIds: ['support-admin'] }),
      expect.objectContaining({ index: 2, ok: true, eventId: attach.eventID, eventTime: attach.eventTime }),
    ]);
    expect(run.credentials).toEqual({ leaked: LEAKED_KEY });
    expect(await credentialsOf(sts, 0)).toMatchObject({ accessKeyId: LEAKED_KEY, secretAccessKey: 'secret' });
  });

  it('shapes RunInstances as EC2 does in CloudTrail, hiding the user data', async () => {
    ec2.on(RunInstancesCommand).resolves({
      ReservationId: 'r-0123',
      OwnerId: ACCOUNT,
      Instances: ['i-0aaa', 'i-0bbb'].map((InstanceId, AmiLaunchIndex) => ({
        InstanceId,
        AmiLaunchIndex,
        ImageId: 'ami-0abc',
        InstanceType: 'g4dn.xlarge',
        KeyName: 'xmr',
        Placement: { AvailabilityZone: 'eu-west-1a', Tenancy: 'default' },
        SecurityGroups: [{ GroupId: 'sg-1', GroupName: 'default' }],
        ClientToken: 'token-1',
      })),
    });

    const run = await runScenario(
      scenario([
        {
          region: 'eu-west-1',
          service: 'ec2',
          action: 'RunInstances',
          params: {
            ImageId: 'ami-0abc',
            InstanceType: 'g4dn.xlarge',
            MinCount: 2,
            MaxCount: 2,
            KeyName: 'xmr',
            SecurityGroups: ['default'],
            UserData: 'IyEvYmluL2Jhc2g=',
            TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'worker' }] }],
          },
        },
      ]),
      ctx,
    );

    const [record] = run.records as [CloudTrailRecord];
    expect(record).toMatchObject({
      eventSource: 'ec2.amazonaws.com',
      awsRegion: 'eu-west-1',
      readOnly: false,
    });
    expect(record.requestParameters).toEqual({
      instancesSet: { items: [{ imageId: 'ami-0abc', minCount: 2, maxCount: 2, keyName: 'xmr' }] },
      instanceType: 'g4dn.xlarge',
      groupSet: { items: [{ groupName: 'default' }] },
      userData: '<sensitiveDataRemoved>',
      tagSpecificationSet: {
        items: [{ resourceType: 'instance', tags: [{ key: 'Name', value: 'worker' }] }],
      },
      blockDeviceMapping: {},
      monitoring: { enabled: false },
      disableApiTermination: false,
      disableApiStop: false,
    });
    const response = record.responseElements as {
      requestId: string;
      reservationId: string;
      instancesSet: { items: Record<string, unknown>[] };
    };
    expect(response.requestId).toBe(record.requestID);
    expect(response.reservationId).toBe('r-0123');
    expect(response.instancesSet.items).toEqual([
      expect.objectContaining({
        instanceId: 'i-0aaa',
        instanceType: 'g4dn.xlarge',
        imageId: 'ami-0abc',
        instanceState: { code: 0, name: 'pending' },
        launchTime: START.getTime(),
        placement: { availabilityZone: 'eu-west-1a', tenancy: 'default' },
        groupSet: { items: [{ groupId: 'sg-1', groupName: 'default' }] },
      }),
      expect.objectContaining({ instanceId: 'i-0bbb', amiLaunchIndex: 1 }),
    ]);
    expect(run.steps[0]?.createdIds).toEqual(['i-0aaa', 'i-0bbb']);
    expect(JSON.stringify(record)).not.toContain('IyEvYmluL2Jhc2g=');
  });

  it('never records secrets: no new secret key, no password', async () => {
    iam.on(CreateAccessKeyCommand).resolves({
      AccessKey: {
        UserName: 'support-admin',
        AccessKeyId: 'AKIAEXAMPLEBACKDOOR1',
        SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        Status: 'Active',
        CreateDate: new Date(),
      },
    });
    iam.on(CreateLoginProfileCommand).resolves({
      LoginProfile: { UserName: 'support-admin', CreateDate: new Date(), PasswordResetRequired: false },
    });

    const run = await runScenario(
      scenario([
        {
          region: 'us-east-1',
          service: 'iam',
          action: 'CreateAccessKey',
          params: { UserName: 'support-admin' },
        },
        {
          region: 'us-east-1',
          service: 'iam',
          action: 'CreateLoginProfile',
          params: { UserName: 'support-admin', Password: 'Hunter2!Hunter2!', PasswordResetRequired: false },
        },
      ]),
      ctx,
    );

    const [key, login] = run.records as [CloudTrailRecord, CloudTrailRecord];
    expect(key.responseElements).toEqual({
      accessKey: {
        userName: 'support-admin',
        accessKeyId: 'AKIAEXAMPLEBACKDOOR1',
        status: 'Active',
        createDate: cloudTrailDate(START),
      },
    });
    expect(login.requestParameters).toEqual({
      userName: 'support-admin',
      password: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      passwordResetRequired: false,
    });
    const text = JSON.stringify(run.records);
    expect(text).not.toContain('wJalrXUtnFEMI');
    expect(text).not.toContain('Hunter2');
    expect(run.steps[0]?.createdIds).toEqual(['AKIAEXAMPLEBACKDOOR1']);
  });

  it('does not send a refused call, and records it as AWS logs a denial', async () => {
    const run = await runScenario(
      scenario([
        {
          region: 'us-east-1',
          service: 'cloudtrail',
          action: 'StopLogging',
          params: { Name: 'arn:aws:cloudtrail:us-east-1:{{ACCOUNT_ID}}:trail/main' },
          outcome: 'AccessDenied',
        },
        {
          region: 'sa-east-1',
          service: 'ec2',
          action: 'RunInstances',
          params: { ImageId: 'ami-1', InstanceType: 'p3.16xlarge', MinCount: 1, MaxCount: 1 },
          outcome: 'AccessDenied',
        },
        {
          region: 'us-east-1',
          service: 'iam',
          action: 'CreateUser',
          params: { UserName: 'x' },
          outcome: 'LimitExceeded',
          errorMessage: 'Cannot exceed quota for UsersPerAccount: 5000 ({{LEAKED_USER}})',
        },
      ]),
      ctx,
    );

    expect(cloudtrail.commandCalls(StopLoggingCommand)).toHaveLength(0);
    expect(ec2.commandCalls(RunInstancesCommand)).toHaveLength(0);
    expect(iam.commandCalls(CreateUserCommand)).toHaveLength(0);
    const [stop, launch, create] = run.records as [CloudTrailRecord, CloudTrailRecord, CloudTrailRecord];
    expect(stop).toMatchObject({
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'StopLogging',
      errorCode: 'AccessDenied',
      errorMessage:
        `User: arn:aws:iam::${ACCOUNT}:user/ci-deployer is not authorized to perform: cloudtrail:StopLogging ` +
        `on resource: arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main because no identity-based policy ` +
        'allows the cloudtrail:StopLogging action',
      requestParameters: { name: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main` },
      responseElements: null,
    });
    // EC2 logs a denial as Client.UnauthorizedOperation.
    expect(launch).toMatchObject({
      awsRegion: 'sa-east-1',
      errorCode: 'Client.UnauthorizedOperation',
      errorMessage: expect.stringMatching(
        /^You are not authorized to perform this operation\. .*ec2:RunInstances/,
      ),
      responseElements: null,
    });
    expect(create).toMatchObject({
      errorCode: 'LimitExceeded',
      errorMessage: 'Cannot exceed quota for UsersPerAccount: 5000 (ci-deployer)',
    });
    expect(run.steps.map((s) => [s.ok, s.error?.split(':')[0], s.createdIds])).toEqual([
      [false, 'AccessDenied', undefined],
      [false, 'Client.UnauthorizedOperation', undefined],
      [false, 'LimitExceeded', undefined],
    ]);
  });

  it('acts with a session token as an ASIA key of the same user, even when the emulator hands out AKIA', async () => {
    sts.on(GetSessionTokenCommand).resolves({
      // moto's fixed answer
      Credentials: {
        AccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        SecretAccessKey: 'sessionsecret',
        SessionToken: 'FQoGZXIvYXdzEXAMPLE',
        Expiration: new Date(),
      },
    });
    sts.on(GetCallerIdentityCommand).resolves({});
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0ccc' }] });

    const run = await runScenario(
      scenario([
        {
          region: 'us-east-1',
          service: 'sts',
          action: 'GetSessionToken',
          params: { DurationSeconds: 129600 },
          saveAs: 'session',
        },
        { region: 'us-west-2', service: 'sts', action: 'GetCallerIdentity', as: 'session', at: '+20s' },
        {
          region: 'us-west-2',
          service: 'ec2',
          action: 'RunInstances',
          params: { ImageId: 'ami-1', InstanceType: 'g4dn.12xlarge', MinCount: 1, MaxCount: 1 },
          as: 'session',
        },
      ]),
      ctx,
    );

    const session = run.credentials.session as string;
    expect(session).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(run.credentials).toEqual({ leaked: LEAKED_KEY, session });
    const [mint, whoami, launch] = run.records as [CloudTrailRecord, CloudTrailRecord, CloudTrailRecord];
    expect(mint).toMatchObject({
      eventName: 'GetSessionToken',
      userIdentity: { accessKeyId: LEAKED_KEY },
      requestParameters: { durationSeconds: 129600 },
      responseElements: {
        credentials: { accessKeyId: session, expiration: 'Nov 25, 2026, 10:00:00 PM' },
      },
    });
    expect(JSON.stringify(mint)).not.toContain('FQoGZXIvYXdzEXAMPLE');
    expect(run.steps[0]?.createdIds).toEqual([session]);
    // The responder's collector sees the pivot.
    expect(pivotOf(JSON.stringify(mint))).toMatchObject({ accessKeyId: session, mintedBy: LEAKED_KEY });
    for (const record of [whoami, launch]) {
      expect(record.userIdentity).toEqual({
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLEVICTIM0001',
        arn: `arn:aws:iam::${ACCOUNT}:user/ci-deployer`,
        accountId: ACCOUNT,
        accessKeyId: session,
        userName: 'ci-deployer',
        sessionContext: {
          sessionIssuer: {},
          webIdFederationData: {},
          attributes: { creationDate: '2026-11-24T10:00:00Z', mfaAuthenticated: 'false' },
        },
      });
    }
    // STS called at a regional endpoint is recorded in that Region.
    expect(whoami.awsRegion).toBe('us-west-2');
    expect(run.steps.map((s) => s.as)).toEqual(['leaked', 'session', 'session']);
    expect(await credentialsOf(ec2, 0)).toMatchObject({
      accessKeyId: session,
      secretAccessKey: 'sessionsecret',
      sessionToken: 'FQoGZXIvYXdzEXAMPLE',
    });
  });

  it('records the calls of an assumed role as AssumedRole, with its issuer', async () => {
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/ops/deploy`;
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLEROLE00001',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: new Date(),
      },
      AssumedRoleUser: {
        AssumedRoleId: 'AROAEXAMPLEROLE000001:x',
        Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/x`,
      },
    });
    iam.on(ListAttachedUserPoliciesCommand).resolves({ AttachedPolicies: [] });

    const run = await runScenario(
      scenario([
        {
          region: 'us-east-1',
          service: 'sts',
          action: 'AssumeRole',
          params: { RoleArn: roleArn, RoleSessionName: 'x' },
          saveAs: 'role',
        },
        {
          region: 'us-east-1',
          service: 'iam',
          action: 'ListAttachedUserPolicies',
          params: { UserName: 'a' },
          as: 'role',
        },
      ]),
      ctx,
    );

    const [assume, list] = run.records as [CloudTrailRecord, CloudTrailRecord];
    expect(assume).toMatchObject({
      requestParameters: { roleArn, roleSessionName: 'x' },
      responseElements: {
        credentials: { accessKeyId: 'ASIAEXAMPLEROLE00001', expiration: 'Nov 24, 2026, 11:00:00 AM' },
        assumedRoleUser: {
          assumedRoleId: 'AROAEXAMPLEROLE000001:x',
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/x`,
        },
      },
      resources: [{ ARN: roleArn, accountId: ACCOUNT, type: 'AWS::IAM::Role' }],
    });
    expect(pivotOf(JSON.stringify(assume))).toMatchObject({ accessKeyId: 'ASIAEXAMPLEROLE00001', roleArn });
    expect(list.userIdentity).toEqual({
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEROLE000001:x',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/x`,
      accountId: ACCOUNT,
      accessKeyId: 'ASIAEXAMPLEROLE00001',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLEROLE000001',
          arn: roleArn,
          accountId: ACCOUNT,
          userName: 'deploy',
        },
        webIdFederationData: {},
        attributes: { creationDate: '2026-11-24T10:00:00Z', mfaAuthenticated: 'false' },
      },
    });
  });

  it('records a federation token as FederatedUser and a backdoor key as its own user', async () => {
    sts.on(GetFederationTokenCommand).resolves({
      Credentials: {
        AccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: new Date(),
      },
      FederatedUser: { FederatedUserId: `${ACCOUNT}:fed`, Arn: `arn:aws:sts::${ACCOUNT}:federated-user/fed` },
    });
    sts.on(GetCallerIdentityCommand).resolves({});
    iam.on(CreateUserCommand).resolves({
      User: {
        UserName: 'support-admin',
        UserId: 'AIDABACKDOOR',
        Arn: `arn:aws:iam::${ACCOUNT}:user/support-admin`,
        Path: '/',
        CreateDate: new Date(),
      },
    });
    iam.on(CreateAccessKeyCommand).resolves({
      AccessKey: {
        UserName: 'support-admin',
        AccessKeyId: 'AKIABACKDOOR',
        SecretAccessKey: 'bs',
        Status: 'Active',
      },
    });

    const run = await runScenario(
      scenario([
        {
          region: 'us-east-1',
          service: 'sts',
          action: 'GetFederationToken',
          params: { Name: 'fed' },
          saveAs: 'fed',
        },
        { region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity', as: 'fed' },
        { region: 'us-east-1', service: 'iam', action: 'CreateUser', params: { UserName: 'support-admin' } },
        {
          region: 'us-east-1',
          service: 'iam',
          action: 'CreateAccessKey',
          params: { UserName: 'support-admin' },
          saveAs: 'backdoor',
        },
        { region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity', as: 'backdoor' },
      ]),
      ctx,
    );

    const fedKey = run.credentials.fed as string;
    expect(fedKey).toMatch(/^ASIA/);
    expect(run.records[1]?.userIdentity).toMatchObject({
      type: 'FederatedUser',
      principalId: `${ACCOUNT}:fed`,
      arn: `arn:aws:sts::${ACCOUNT}:federated-user/fed`,
      accessKeyId: fedKey,
      sessionContext: {
        sessionIssuer: { type: 'IAMUser', userName: 'ci-deployer', principalId: 'AIDAEXAMPLEVICTIM0001' },
      },
    });
    expect(run.credentials.backdoor).toBe('AKIABACKDOOR');
    expect(run.records[4]?.userIdentity).toEqual({
      type: 'IAMUser',
      principalId: 'AIDABACKDOOR',
      arn: `arn:aws:iam::${ACCOUNT}:user/support-admin`,
      accountId: ACCOUNT,
      accessKeyId: 'AKIABACKDOOR',
      userName: 'support-admin',
    });
    expect(await credentialsOf(sts, 2)).toMatchObject({ accessKeyId: 'AKIABACKDOOR', secretAccessKey: 'bs' });
  });

  it('records a call the emulator refused as a failed attempt (EC2 codes prefixed), or throws when strict', async () => {
    ec2.on(RunInstancesCommand).rejects(
      new EC2ServiceException({
        name: 'InvalidKeyPair.NotFound',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: "The key pair 'nope' does not exist",
      }),
    );
    iam.on(AttachUserPolicyCommand).rejects(
      new IAMServiceException({
        name: 'NoSuchEntityException',
        $fault: 'client',
        $metadata: { httpStatusCode: 404 },
        message: 'Policy arn:aws:iam::aws:policy/AdministratorAccess does not exist or is not attachable.',
      }),
    );
    const steps: Scenario['steps'] = [
      {
        region: 'us-east-1',
        service: 'ec2',
        action: 'RunInstances',
        params: { ImageId: 'ami-1', InstanceType: 'g5.xlarge', MinCount: 1, MaxCount: 1, KeyName: 'nope' },
      },
      {
        region: 'us-east-1',
        service: 'iam',
        action: 'AttachUserPolicy',
        params: { UserName: 'x', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      },
    ];

    const run = await runScenario(scenario(steps), ctx);

    expect(run.records.map((r) => [r.errorCode, r.responseElements])).toEqual([
      ['Client.InvalidKeyPair.NotFound', null],
      ['NoSuchEntityException', null],
    ]);
    expect(run.records[1]?.errorMessage).toContain('MOTO_IAM_LOAD_MANAGED_POLICIES=true');
    expect(run.steps.every((s) => !s.ok)).toBe(true);

    added = [];
    const error = await runError(runScenario(scenario(steps), { ...ctx, strict: true }));
    expect(error.stepIndex).toBe(0);
    expect(error.message).toMatch(
      /step 0 \(ec2 RunInstances in us-east-1 as leaked\): refused: InvalidKeyPair\.NotFound/,
    );
    expect(added).toHaveLength(0);
  });

  it('throws on a step the emulator cannot play (not implemented, server error), after recording the earlier ones', async () => {
    sts.on(GetCallerIdentityCommand).resolves({});
    ec2
      .on(RunInstancesCommand)
      .rejects(new Error('Deserialization error: <html>500 Internal Server Error</html>'));

    const error = await runError(
      runScenario(
        scenario([
          { region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity' },
          {
            region: 'us-east-1',
            service: 'ec2',
            action: 'RunInstances',
            params: { ImageId: 'ami-1', MinCount: 1, MaxCount: 1 },
          },
        ]),
        ctx,
      ),
    );
    expect(error.stepIndex).toBe(1);
    expect(error.message).toMatch(/step 1 .*could not play it .*Deserialization error.*`outcome`/);
    expect(added).toHaveLength(1);
  });

  it('skips lightsail steps without a Lightsail stand-in, and plays them against it when given', async () => {
    const steps: Scenario['steps'] = [
      {
        region: 'eu-central-1',
        service: 'lightsail',
        action: 'CreateInstances',
        params: {
          instanceNames: ['wp-1'],
          availabilityZone: 'eu-central-1a',
          blueprintId: 'ubuntu_22_04',
          bundleId: '2xlarge_3_0',
          userData: 'curl x | sh',
        },
      },
    ];
    const skipped = await runScenario(scenario(steps), ctx);
    expect(skipped.steps).toEqual([
      expect.objectContaining({ ok: false, skipped: true, eventId: null, eventTime: '2026-11-24T10:00:00Z' }),
    ]);
    expect(skipped.records).toHaveLength(0);
    expect(lightsail.send.callCount).toBe(0);

    lightsail
      .onAnyCommand()
      .resolves({ operations: [{ resourceName: 'wp-1', createdAt: new Date('2030-01-01T00:00:00Z') }] });
    const played = await runScenario(scenario(steps), {
      ...ctx,
      lightsail: { endpoint: 'http://127.0.0.1:3' },
    });
    expect(played.steps[0]).toMatchObject({ ok: true, createdIds: ['wp-1'] });
    expect(played.records[0]).toMatchObject({
      eventSource: 'lightsail.amazonaws.com',
      awsRegion: 'eu-central-1',
      requestParameters: {
        instanceNames: ['wp-1'],
        bundleId: '2xlarge_3_0',
        userData: '<sensitiveDataRemoved>',
      },
      responseElements: { operations: [{ resourceName: 'wp-1', createdAt: 'Nov 24, 2026, 10:00:00 AM' }] },
    });
    const client = lightsail.send.getCall(0).thisValue as {
      config: { endpoint: () => Promise<{ port?: number }> };
    };
    expect((await client.config.endpoint()).port).toBe(3);

    // A refused call needs no stand-in: it is only a record.
    const denied = await runScenario(
      scenario([{ ...(steps[0] as Scenario['steps'][number]), outcome: 'AccessDenied' }]),
      ctx,
    );
    expect(denied.steps[0]).toMatchObject({ ok: false, error: expect.stringMatching(/^AccessDenied: /) });
    expect(denied.steps[0]?.skipped).toBeUndefined();
    expect(denied.records[0]?.errorMessage).toContain('lightsail:CreateInstances');
  });

  it('takes the source IP and user agent from the step, the scenario or the context', async () => {
    sts.on(GetCallerIdentityCommand).resolves({});
    const run = await runScenario(
      scenario(
        [
          { region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity' },
          {
            region: 'us-east-1',
            service: 'sts',
            action: 'GetCallerIdentity',
            sourceIp: '203.0.113.9',
            userAgent: 'curl/8.0',
          },
        ],
        { userAgent: 'aws-cli/2.15.0' },
      ),
      { ...ctx, sourceIp: '198.51.100.7', userAgent: 'ignored' },
    );
    expect(run.records.map((r) => [r.sourceIPAddress, r.userAgent])).toEqual([
      ['198.51.100.7', 'aws-cli/2.15.0'],
      ['203.0.113.9', 'curl/8.0'],
    ]);
  });

  it('falls back to a stable AIDA id when IAM does not know the leaked user', async () => {
    iam.reset();
    sts.on(GetCallerIdentityCommand).resolves({});
    const one = await runScenario(
      scenario([{ region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity' }]),
      ctx,
    );
    const two = await runScenario(
      scenario([{ region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity' }]),
      ctx,
    );
    expect(one.records[0]?.userIdentity.principalId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(two.records[0]?.userIdentity.principalId).toBe(one.records[0]?.userIdentity.principalId);
    const given = await runScenario(
      scenario([{ region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity' }]),
      {
        ...ctx,
        leaked: { ...ctx.leaked, userId: 'AIDAGIVEN' },
      },
    );
    expect(given.records[0]?.userIdentity.principalId).toBe('AIDAGIVEN');
  });

  it('validates a scenario built in code before playing it', async () => {
    await expect(
      runScenario(
        scenario([{ region: 'us-east-1', service: 'sts', action: 'GetCallerIdentity', as: 'nobody' }]),
        ctx,
      ),
    ).rejects.toThrow(ScenarioError);
    expect(sts.send.callCount).toBe(0);
  });
});
