import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { RoleAssumed } from '../../lambdas/pivots/manifest';
import {
  GLOBAL_EVENTS_REGION,
  type PlanSettings,
  planInvestigation,
} from '../../lambdas/plan/plan-investigation';
import {
  ROLE_REVOKE_POLICY,
  type RoleRevocation,
  revokeRoleSessions,
} from '../../lambdas/revoke-roles/revoke-role-sessions';
import { AccessDeniedError, TransientAwsError } from '../../lambdas/shared/errors';
import type { Decision } from '../../lambdas/shared/types';
import { ACCOUNT } from '../fixtures/events';
import { aContainedResult, anIncident, anIntakeResult } from '../fixtures/incidents';

const NOW = new Date('2025-02-12T00:38:42.000Z');
const DAY = 86_400_000;
const KEY_A = 'AKIAIOSFODNN7EXAMPLE';
const KEY_B = 'AKIAI44QH8DHBEXAMPLE';
const KEY_C = 'AKIAJ7EXAMPLETHIRD77';

const accessDenied = () =>
  Object.assign(new Error('User is not authorized to perform: iam:PutRolePolicy'), {
    name: 'AccessDenied',
    $metadata: { httpStatusCode: 403 },
  });
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });

describe('planInvestigation', () => {
  const ec2 = new EC2Client({ region: 'us-east-1' });
  const ec2Mock = mockClient(ec2);
  beforeEach(() => ec2Mock.reset());

  const settings = (overrides: Partial<PlanSettings> = {}): PlanSettings => ({
    regions: 'all-enabled',
    lookbackDays: 90,
    now: () => NOW,
    ...overrides,
  });
  const input = (containment = [aContainedResult({ accessKeyId: KEY_A })]) => ({
    intake: anIntakeResult(),
    containment,
  });
  const enabled = (...names: string[]) =>
    ec2Mock.on(DescribeRegionsCommand).resolves({ Regions: names.map((RegionName) => ({ RegionName })) });

  it('searches every enabled region, us-east-1 first, the rest sorted', async () => {
    // Arrange
    enabled('eu-west-1', 'ap-south-1', 'us-east-1', 'us-west-2');

    // Act
    const plan = await planInvestigation(ec2, settings(), input());

    // Assert
    expect(plan.regions).toEqual(['us-east-1', 'ap-south-1', 'eu-west-1', 'us-west-2']);
    // Without AllRegions, DescribeRegions lists only the enabled regions.
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeRegionsCommand, 1);
    expect(ec2Mock.commandCalls(DescribeRegionsCommand)[0].args[0].input).toEqual({});
  });

  it('always searches us-east-1, where global services log, even when not listed', async () => {
    enabled('eu-central-1');

    const plan = await planInvestigation(ec2, settings(), input());

    expect(GLOBAL_EVENTS_REGION).toBe('us-east-1');
    expect(plan.regions).toEqual(['us-east-1', 'eu-central-1']);
  });

  it('takes a configured list as is, deduplicated, without asking EC2', async () => {
    const regions = ['eu-west-1', 'us-east-1', 'eu-west-1', 'ap-south-1'];

    const plan = await planInvestigation(ec2, settings({ regions }), input());

    expect(plan.regions).toEqual(['us-east-1', 'ap-south-1', 'eu-west-1']);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeRegionsCommand);
    expect(regions).toEqual(['eu-west-1', 'us-east-1', 'eu-west-1', 'ap-south-1']);
  });

  it('searches us-east-1 with an empty configured list', async () => {
    const plan = await planInvestigation(ec2, settings({ regions: [] }), input());

    expect(plan.regions).toEqual(['us-east-1']);
  });

  it('investigates keys of this account only, and not the duplicates of another incident', async () => {
    // Arrange
    enabled('us-east-1');
    const decisions: [string, Decision, string?][] = [
      [KEY_A, 'contained'],
      [KEY_B, 'notify-only'],
      [KEY_C, 'dry-run'],
      ['AKIAMANUAL0000000004', 'manual-required'],
      ['AKIANOTFOUND00000005', 'not-found'],
      ['AKIAFOREIGN000000006', 'foreign-account'],
      ['AKIAFAILED0000000007', 'failed'],
      ['AKIADUPLICATE0000008', 'contained', '20250211-aaaaaaaaaaaa'],
    ];
    const containment = decisions.map(([accessKeyId, decision, duplicateOf]) =>
      aContainedResult({ accessKeyId, decision, ...(duplicateOf ? { duplicateOf } : {}) }),
    );

    // Act
    const plan = await planInvestigation(ec2, settings(), input(containment));

    // Assert
    const expected = [KEY_A, KEY_B, KEY_C, 'AKIAMANUAL0000000004'];
    expect(plan.keys).toEqual(expected);
    expect(plan.seen).toEqual(expected);
    expect(plan.round).toBe(1);
    expect(plan.incidentId).toBe(anIncident().incidentId);
  });

  it('plans no region and asks nothing when no key is to be investigated', async () => {
    const plan = await planInvestigation(
      ec2,
      settings(),
      input([aContainedResult({ decision: 'foreign-account' }), aContainedResult({ duplicateOf: 'x' })]),
    );

    expect(plan.keys).toEqual([]);
    expect(plan.regions).toEqual([]);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeRegionsCommand);
  });

  it.each([
    [30, 30],
    [90, 90],
    [365, 90],
    [0, 1],
  ])('looks back %i days as %i days (event history keeps 90), ending now', async (lookbackDays, days) => {
    const plan = await planInvestigation(ec2, settings({ regions: ['us-east-1'], lookbackDays }), input());

    expect(plan.window).toEqual({
      start: new Date(NOW.getTime() - days * DAY).toISOString(),
      end: NOW.toISOString(),
    });
  });

  it('turns a refused DescribeRegions into AccessDeniedError, and throttling into TransientAwsError', async () => {
    ec2Mock
      .on(DescribeRegionsCommand)
      .rejectsOnce(
        Object.assign(new Error('not authorized'), {
          name: 'UnauthorizedOperation',
          $metadata: { httpStatusCode: 403 },
        }),
      )
      .rejectsOnce(
        Object.assign(new Error('slow down'), {
          name: 'RequestLimitExceeded',
          $metadata: { httpStatusCode: 503 },
        }),
      );

    await expect(planInvestigation(ec2, settings(), input())).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(planInvestigation(ec2, settings(), input())).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('revokeRoleSessions', () => {
  const iam = new IAMClient({ region: 'us-east-1' });
  const iamMock = mockClient(iam);
  beforeEach(() => iamMock.reset());

  const PREFIX = 'ExposedKeyResponder-';
  const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
  const assumed = (roleArn: string, sessionKey = 'ASIAPIVOTROLE0000002'): RoleAssumed => ({
    roleArn,
    sessionKey,
    assumedWith: KEY_A,
    eventId: `mint-${sessionKey}`,
    eventTime: '2025-02-12T00:37:42Z',
  });
  const revoke = (roles: RoleAssumed[]) => revokeRoleSessions(iam, roles, PREFIX, () => NOW);

  it('denies every session of the role issued before now, under the console policy name', async () => {
    // Arrange
    iamMock.on(PutRolePolicyCommand).resolves({});

    // Act
    const outcomes = await revoke([assumed(role('team/deploy'))]);

    // Assert
    expect(ROLE_REVOKE_POLICY).toBe('AWSRevokeOlderSessions');
    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
    const call = iamMock.commandCalls(PutRolePolicyCommand)[0].args[0].input;
    expect(call.RoleName).toBe('deploy');
    expect(call.PolicyName).toBe('AWSRevokeOlderSessions');
    expect(JSON.parse(call.PolicyDocument ?? '')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: expect.any(String),
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': NOW.toISOString() } },
        },
      ],
    });
    expect(outcomes).toEqual<RoleRevocation[]>([
      {
        roleArn: role('team/deploy'),
        outcome: 'revoked',
        action: {
          action: 'iam:PutRolePolicy',
          target: 'deploy/AWSRevokeOlderSessions',
          at: NOW.toISOString(),
          ok: true,
        },
      },
    ]);
  });

  it('revokes a role assumed several times once', async () => {
    iamMock.on(PutRolePolicyCommand).resolves({});

    const outcomes = await revoke([
      assumed(role('deploy'), 'ASIASESSIONONE000001'),
      assumed(role('deploy'), 'ASIASESSIONTWO000002'),
    ]);

    expect(outcomes).toHaveLength(1);
    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
  });

  it('skips service-linked roles, the responder’s own roles and what is not a role ARN', async () => {
    // Arrange
    iamMock.on(PutRolePolicyCommand).resolves({});
    const serviceLinked = role('aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS');
    const own = role(`${PREFIX}CollectActivityServiceRole1A2B3C`);
    const notARole = 'arn:aws:iam::123456789012:user/ci-deployer';

    // Act
    const outcomes = await revoke([assumed(serviceLinked), assumed(own), assumed(notARole)]);

    // Assert
    expect(outcomes.map((o) => [o.roleArn, o.outcome])).toEqual([
      [serviceLinked, 'skipped'],
      [own, 'skipped'],
      [notARole, 'skipped'],
    ]);
    expect(outcomes.map((o) => o.why)).toEqual([
      expect.stringContaining('service-linked'),
      expect.stringContaining('own roles'),
      'not a role ARN',
    ]);
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });

  it('skips nothing by prefix when the responder has no prefix configured', async () => {
    iamMock.on(PutRolePolicyCommand).resolves({});

    const outcomes = await revokeRoleSessions(iam, [assumed(role('deploy'))], '', () => NOW);

    expect(outcomes.map((o) => o.outcome)).toEqual(['revoked']);
  });

  it('skips a role that no longer exists, and records a refusal as failed, then goes on', async () => {
    // Arrange
    iamMock
      .on(PutRolePolicyCommand, { RoleName: 'gone' })
      .rejects(
        new NoSuchEntityException({ message: 'The role with name gone cannot be found.', $metadata: {} }),
      )
      .on(PutRolePolicyCommand, { RoleName: 'guarded' })
      .rejects(accessDenied())
      .on(PutRolePolicyCommand, { RoleName: 'deploy' })
      .resolves({});

    // Act
    const outcomes = await revoke([assumed(role('gone')), assumed(role('guarded')), assumed(role('deploy'))]);

    // Assert
    expect(outcomes.map((o) => [o.outcome, o.why])).toEqual([
      ['skipped', 'the role no longer exists'],
      ['failed', 'AccessDenied: User is not authorized to perform: iam:PutRolePolicy'],
      ['revoked', undefined],
    ]);
  });

  it('fails with TransientAwsError when IAM throttles, so the workflow retries', async () => {
    iamMock.on(PutRolePolicyCommand).rejects(throttled());

    await expect(revoke([assumed(role('deploy'))])).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('rethrows an unexpected IAM error unchanged', async () => {
    const error = Object.assign(new Error('bad document'), { name: 'MalformedPolicyDocument' });
    iamMock.on(PutRolePolicyCommand).rejects(error);

    await expect(revoke([assumed(role('deploy'))])).rejects.toBe(error);
  });

  it('does nothing without roles', async () => {
    expect(await revoke([])).toEqual([]);
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });

  // BUG: the attacker may assume roles of other accounts (AssumeRole's roleArn is recorded in the
  // caller's account too). revokeRoleSessions keeps only the role *name*, so PutRolePolicy lands on
  // this account's role of the same name (or reports "no longer exists"), while the role actually
  // assumed keeps its sessions. It should skip roles outside the account. The test passes the account
  // both ways a fix might take it: a fifth argument, and on each RoleAssumed.
  it('skips a role of another account instead of denying the same-named role here', async () => {
    // Arrange
    iamMock.on(PutRolePolicyCommand).resolves({});
    const foreign = role('OrganizationAccountAccessRole', '210987654321');
    const roles = [{ ...assumed(foreign), accountId: ACCOUNT }];
    const revokeIn = revokeRoleSessions as unknown as (
      ...args: [IAMClient, RoleAssumed[], string, () => Date, string]
    ) => Promise<RoleRevocation[]>;

    // Act
    const outcomes = await revokeIn(iam, roles, PREFIX, () => NOW, ACCOUNT);

    // Assert
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(outcomes).toEqual([
      { roleArn: foreign, outcome: 'skipped', why: expect.stringContaining('account') },
    ]);
  });
});
