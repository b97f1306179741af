import { IAMClient, ListAccessKeysCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { intake } from '../../lambdas/intake/intake';
import { AccessDeniedError, InvalidEventError, TransientAwsError } from '../../lambdas/shared/errors';
import { loadEvent, SAMPLE_KEY } from '../fixtures/events';

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });
const options = {
  drillsEnabled: false,
  receivedAt: new Date('2025-02-12T00:38:40.000Z'),
  primaryRegion: 'us-east-1',
};

const key = (id: string, status: 'Active' | 'Inactive' = 'Active') => ({
  AccessKeyId: id,
  Status: status,
  UserName: 'ci-deployer',
});

describe('intake', () => {
  beforeEach(() => {
    iamMock.reset();
  });

  it('passes a Health event through without calling IAM', async () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');

    // Act
    const result = await intake(event, options, iam);

    // Assert
    expect(result.keys).toEqual([{ accessKeyId: SAMPLE_KEY, reportedUserName: 'ci-deployer' }]);
    expect(result.ambiguous).toEqual([]);
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('names the only active key of a quarantined user as the exposed key', async () => {
    // Arrange
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [key(SAMPLE_KEY), key('AKIAOLDKEYOLDKEY0001', 'Inactive')],
      IsTruncated: false,
    });

    // Act
    const result = await intake(loadEvent('cloudtrail-quarantine'), options, iam);

    // Assert
    expect(result.incident.trigger).toBe('quarantine');
    expect(result.keys).toEqual([{ accessKeyId: SAMPLE_KEY, reportedUserName: 'ci-deployer' }]);
    expect(result.ambiguous).toEqual([]);
    expect(result.rejected).toEqual([]);
    expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'ci-deployer' });
  });

  it('reports a quarantined user with two active keys as ambiguous and names no key', async () => {
    // Arrange
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [key(SAMPLE_KEY), key('AKIASECONDKEYSECOND2')],
    });

    // Act
    const result = await intake(loadEvent('cloudtrail-quarantine'), options, iam);

    // Assert
    expect(result.keys).toEqual([]);
    expect(result.ambiguous).toEqual([
      { userName: 'ci-deployer', activeAccessKeyIds: [SAMPLE_KEY, 'AKIASECONDKEYSECOND2'] },
    ]);
  });

  it('rejects a quarantined user that no longer exists', async () => {
    // Arrange
    iamMock.on(ListAccessKeysCommand).rejects(
      new NoSuchEntityException({
        message: 'The user with name ci-deployer cannot be found.',
        $metadata: {},
      }),
    );

    // Act
    const result = await intake(loadEvent('cloudtrail-quarantine'), options, iam);

    // Assert
    expect(result.keys).toEqual([]);
    expect(result.rejected).toEqual([
      { value: 'ci-deployer', reason: expect.stringMatching(/no longer exists/) },
    ]);
  });

  it('rejects a quarantined user without any active key', async () => {
    // Arrange
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [key(SAMPLE_KEY, 'Inactive')] });

    // Act
    const result = await intake(loadEvent('cloudtrail-quarantine'), options, iam);

    // Assert
    expect(result.keys).toEqual([]);
    expect(result.rejected[0].reason).toMatch(/no active access key/);
  });

  it('follows ListAccessKeys pages (IsTruncated/Marker) before deciding', async () => {
    // Arrange: the only active key is on the second page.
    iamMock
      .on(ListAccessKeysCommand, { UserName: 'ci-deployer', Marker: undefined })
      .resolves({
        AccessKeyMetadata: [key('AKIAOLDKEYOLDKEY0001', 'Inactive')],
        IsTruncated: true,
        Marker: 'page-2',
      })
      .on(ListAccessKeysCommand, { UserName: 'ci-deployer', Marker: 'page-2' })
      .resolves({ AccessKeyMetadata: [key(SAMPLE_KEY)], IsTruncated: false });

    // Act
    const result = await intake(loadEvent('cloudtrail-quarantine'), options, iam);

    // Assert
    expect(result.keys.map((k) => k.accessKeyId)).toEqual([SAMPLE_KEY]);
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 2);
    expect(iamMock).toHaveReceivedNthCommandWith(2, ListAccessKeysCommand, {
      UserName: 'ci-deployer',
      Marker: 'page-2',
    });
  });

  it('finds the second active key on a later page and reports the user as ambiguous', async () => {
    // Arrange
    iamMock
      .on(ListAccessKeysCommand, { Marker: undefined })
      .resolves({ AccessKeyMetadata: [key(SAMPLE_KEY)], IsTruncated: true, Marker: 'page-2' })
      .on(ListAccessKeysCommand, { Marker: 'page-2' })
      .resolves({ AccessKeyMetadata: [key('AKIASECONDKEYSECOND2')], IsTruncated: false });

    // Act
    const result = await intake(loadEvent('cloudtrail-quarantine'), options, iam);

    // Assert
    expect(result.keys).toEqual([]);
    expect(result.ambiguous[0].activeAccessKeyIds).toEqual([SAMPLE_KEY, 'AKIASECONDKEYSECOND2']);
  });

  it('turns throttling of ListAccessKeys into a TransientAwsError the workflow retries', async () => {
    // Arrange
    iamMock
      .on(ListAccessKeysCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      );

    // Act
    const promise = intake(loadEvent('cloudtrail-quarantine'), options, iam);

    // Assert
    await expect(promise).rejects.toBeInstanceOf(TransientAwsError);
    await expect(promise).rejects.toThrow(/iam:ListAccessKeys.*User: ci-deployer/);
  });

  it('turns AccessDenied on ListAccessKeys into an AccessDeniedError', async () => {
    // Arrange
    iamMock.on(ListAccessKeysCommand).rejects(
      Object.assign(new Error('not authorized'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );

    // Act
    const promise = intake(loadEvent('cloudtrail-quarantine'), options, iam);

    // Assert
    await expect(promise).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('throws InvalidEventError for a malformed event before calling IAM', async () => {
    // Arrange
    const event = loadEvent('cloudtrail-quarantine');
    event.detail.sourceIPAddress = '198.51.100.7';

    // Act
    const promise = intake(event, options, iam);

    // Assert
    await expect(promise).rejects.toBeInstanceOf(InvalidEventError);
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });
});
