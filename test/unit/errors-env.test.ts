import { IAMServiceException, NoSuchEntityException } from '@aws-sdk/client-iam';
import { parseEnv } from '../../lambdas/shared/env';
import {
  AccessDeniedError,
  ConfigurationError,
  classifyAwsError,
  describeError,
  isAccessDenied,
  isTransient,
  RETRYABLE_ERRORS,
  TransientAwsError,
} from '../../lambdas/shared/errors';

const sdkError = (name: string, httpStatusCode?: number, message = 'x') =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

describe('classifyAwsError', () => {
  it.each([
    ['AccessDenied', 403],
    ['AccessDeniedException', 400],
    ['UnauthorizedOperation', 403],
  ])('turns %s into AccessDeniedError naming the call and the context', (name, status) => {
    // Arrange
    const error = sdkError(name, status, 'not authorized');

    // Act
    const classified = classifyAwsError('iam:UpdateAccessKey', error, 'Key AKIA... is still ACTIVE.');

    // Assert
    expect(classified).toBeInstanceOf(AccessDeniedError);
    expect((classified as Error).name).toBe('AccessDeniedError');
    expect((classified as Error).message).toMatch(
      new RegExp(
        `^iam:UpdateAccessKey was refused \\(${name}: not authorized\\)\\. Key AKIA\\.\\.\\. is still ACTIVE\\.`,
      ),
    );
    expect((classified as Error).message).toMatch(/SCP or permission boundary/);
  });

  it.each([
    ['Throttling', 400],
    ['ThrottlingException', 400],
    ['TooManyRequestsException', 429],
    ['ServiceUnavailable', 503],
    ['SomeNewServerFault', 500],
    ['InternalFailure', undefined],
  ])('turns %s (HTTP %s) into a retryable TransientAwsError', (name, status) => {
    // Arrange
    const error = sdkError(name, status);

    // Act
    const classified = classifyAwsError('iam:ListAccessKeys', error);

    // Assert
    expect(classified).toBeInstanceOf(TransientAwsError);
    expect((classified as Error).message).toMatch(/^iam:ListAccessKeys failed after retries/);
    expect(RETRYABLE_ERRORS).toContain((classified as Error).name);
  });

  it('treats network resets as transient', () => {
    // Arrange
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    // Act
    const classified = classifyAwsError('sns:Publish', reset);

    // Assert
    expect(classified).toBeInstanceOf(TransientAwsError);
    expect(isTransient(reset)).toBe(true);
  });

  it('passes an unknown error through unchanged, so nothing is mislabelled as safe to retry', () => {
    // Arrange
    const error = new NoSuchEntityException({ message: 'gone', $metadata: { httpStatusCode: 404 } });
    const odd = 'a string thrown by mistake';

    // Act
    const classified = classifyAwsError('iam:UpdateAccessKey', error);

    // Assert
    expect(classified).toBe(error);
    expect(classifyAwsError('x', odd)).toBe(odd);
    expect(classifyAwsError('x', undefined)).toBeUndefined();
  });

  it('recognises modelled SDK exceptions by name', () => {
    // Arrange
    const denied = new IAMServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'denied',
    });

    // Act
    const classified = classifyAwsError('iam:PutUserPolicy', denied);

    // Assert
    expect(isAccessDenied(denied)).toBe(true);
    expect(classified).toBeInstanceOf(AccessDeniedError);
  });

  it('describes errors and non-errors', () => {
    // Act / Assert
    expect(describeError(sdkError('Throttling', 400, 'Rate exceeded'))).toBe('Throttling: Rate exceeded');
    expect(describeError(42)).toBe('42');
  });
});

describe('parseEnv', () => {
  it('applies the documented defaults to an empty environment', () => {
    // Act
    const env = parseEnv({});

    // Assert
    expect(env).toEqual({
      MODE: 'contain',
      REVOKE_SESSIONS: true,
      LOGIN_PROFILE: 'keep',
      DRILLS_ENABLED: false,
      CANARY_TAG: 'exposed-key-responder:canary',
      DEDUPE_WINDOW_SECONDS: 86_400,
      REVOKE_POLICY_NAME: 'ExposedKeyResponderRevokeSessions',
      REGIONS: 'all-enabled',
      LOOKBACK_DAYS: 90,
      RESPONDER_ROLE_PREFIX: '',
      REPORT_LINK_SECONDS: 604_800,
    });
  });

  it('reads the strings the stack sets', () => {
    // Arrange
    const source = {
      RESPONDER_ACCOUNT_ID: '123456789012',
      MODE: 'dry-run',
      REVOKE_SESSIONS: 'false',
      LOGIN_PROFILE: 'delete',
      DRILLS_ENABLED: 'true',
      DEDUPE_WINDOW_SECONDS: '3600',
      EXEMPT_TAG: 'keep-keys',
      ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alerts',
      UNRELATED: 'ignored',
    };

    // Act
    const env = parseEnv(source);

    // Assert
    expect(env).toMatchObject({
      RESPONDER_ACCOUNT_ID: '123456789012',
      MODE: 'dry-run',
      REVOKE_SESSIONS: false,
      LOGIN_PROFILE: 'delete',
      DRILLS_ENABLED: true,
      DEDUPE_WINDOW_SECONDS: 3600,
      EXEMPT_TAG: 'keep-keys',
    });
  });

  it.each([
    ['MODE', 'bogus'],
    ['REVOKE_SESSIONS', 'yes'],
    ['LOGIN_PROFILE', 'reset'],
    ['DEDUPE_WINDOW_SECONDS', '1h'],
    ['RESPONDER_ACCOUNT_ID', '1234'],
  ])('throws ConfigurationError naming %s when it is %p', (variable, value) => {
    // Act
    const act = () => parseEnv({ [variable]: value });

    // Assert
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
    expect(act).toThrow(new RegExp(`\\b${variable}: `));
    expect(act).toThrow(/Redeploy the stack/);
  });
});
