import { Match } from 'aws-cdk-lib/assertions';
import {
  asList,
  flatten,
  isIamWrite,
  type PolicyStatementJson,
  stateMachineDefinition,
  templatesFor,
} from './app-under-test';

function statementsOfRole(context: Record<string, unknown>, functionId: string): PolicyStatementJson[] {
  const { primary } = templatesFor(context);
  const roleId = Object.keys(primary.findResources('AWS::IAM::Role')).find((id) =>
    id.startsWith(`${functionId}Role`),
  );
  if (!roleId) throw new Error(`no role for ${functionId}`);
  return Object.values(primary.findResources('AWS::IAM::Policy'))
    .filter((p) => asList(p.Properties.Roles as unknown[]).some((r) => flatten(r) === `<${roleId}>`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as PolicyStatementJson[]);
}

describe('evidence bucket', () => {
  it('is encrypted, versioned, private, TLS only, expiring after the retention, and kept on delete', () => {
    const { primary } = templatesFor({ evidenceRetentionDays: '30' });

    primary.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: Match.anyValue(),
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'evidence/' }),
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
          ]),
        },
      }),
    });
    primary.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });
});

describe('collection', () => {
  it('loops over the pages of each region and follows the pivots in rounds', () => {
    const definition = JSON.stringify(stateMachineDefinition(templatesFor({}).primary));

    for (const name of [
      'Investigate',
      'Plan the investigation',
      'Collect activity in each region',
      'Read CloudTrail pages',
      'All pages read?',
      'Record the region as unreadable',
      'Follow the pivots',
      'Did it mint more keys?',
      'Was activity collected?',
      'Analyze the activity',
    ]) {
      expect(definition).toContain(`"${name}"`);
    }
  });

  it('lets the collector read CloudTrail and write evidence under incidents/ only', () => {
    const statements = statementsOfRole({}, 'CollectActivity');

    const actions = statements.flatMap((s) => asList(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['cloudtrail:LookupEvents', 's3:PutObject']));
    expect(actions.some(isIamWrite)).toBe(false);
    const s3 = statements.find((s) => asList(s.Action).includes('s3:PutObject'));
    expect(asList(s3?.Resource).map(flatten)).toEqual([expect.stringMatching(/\/incidents\/\*$/)]);
  });

  it('has no role-session revocation unless configured', () => {
    const definition = JSON.stringify(stateMachineDefinition(templatesFor({}).primary));

    expect(definition).not.toContain('Revoke sessions of the roles it assumed');
  });

  it("revokes assumed roles' sessions only with the setting, never on its own or service-linked roles", () => {
    const context = { revokeAssumedRoleSessions: 'true' };
    const statements = statementsOfRole(context, 'RevokeRoleSessions');

    const allow = statements.find(
      (s) => s.Effect === 'Allow' && asList(s.Action).includes('iam:PutRolePolicy'),
    );
    const deny = statements.find((s) => s.Effect === 'Deny');
    expect(asList(allow?.Resource).map(flatten)).toEqual([
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*',
    ]);
    expect(asList(deny?.Action)).toEqual(['iam:PutRolePolicy']);
    expect(asList(deny?.Resource).map(flatten)).toEqual([
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/ExposedKeyResponder-*',
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/*',
    ]);
    expect(JSON.stringify(stateMachineDefinition(templatesFor(context).primary))).toContain(
      'Revoke sessions of the roles it assumed',
    );
  });
});
