import { parseCause, renderFailureAlert, summarizeEvent } from '../../lambdas/notify-failure/render';
import { ACCOUNT, loadEvent, SAMPLE_KEY } from '../fixtures/events';
import { aContainedResult, anIntakeResult } from '../fixtures/incidents';

/** The error Step Functions puts under $.error when a Lambda task throws. */
const lambdaError = (errorType: string, errorMessage: string) => ({
  Error: errorType,
  Cause: JSON.stringify({ errorType, errorMessage, trace: ['at parseEvent (index.js:1:1)'] }),
});

describe('parseCause', () => {
  it('reads the name and message out of a Lambda JSON cause', () => {
    // Arrange
    const error = lambdaError(
      'InvalidEventError',
      'The AWS Health event is malformed: detail: Invalid input.',
    );

    // Act
    const parsed = parseCause(error);

    // Assert
    expect(parsed).toEqual({
      name: 'InvalidEventError',
      message: 'The AWS Health event is malformed: detail: Invalid input.',
    });
  });

  it('keeps a plain-text States.Timeout cause as it is', () => {
    // Act
    const parsed = parseCause({ Error: 'States.Timeout', Cause: 'The task timed out after 60 seconds.' });

    // Assert
    expect(parsed).toEqual({ name: 'States.Timeout', message: 'The task timed out after 60 seconds.' });
  });

  it('copes with a missing error or cause', () => {
    // Act / Assert
    expect(parseCause(undefined)).toEqual({ name: 'UnknownError', message: 'no detail was given' });
    expect(parseCause({ Error: 'States.Timeout' })).toEqual({
      name: 'States.Timeout',
      message: 'no detail was given',
    });
    expect(parseCause({ Error: 'X', Cause: '{"errorMessage": 42}' })).toEqual({
      name: 'X',
      message: '{"errorMessage": 42}',
    });
  });
});

describe('renderFailureAlert', () => {
  it('names the Report step failure and, under it, the investigation failure the report would have said', () => {
    // Arrange
    const intake = anIntakeResult();
    const state = {
      intake,
      containment: [aContainedResult()],
      error: lambdaError('AnalyzerCrashed', 'out of memory'),
      reportError: lambdaError('TransientAwsError', 'sns:Publish throttled'),
    };

    // Act
    const { subject, message } = renderFailureAlert(state);

    // Assert
    expect(subject).toContain('TransientAwsError');
    expect(message).toContain('TransientAwsError: sns:Publish throttled');
    expect(message).toContain(
      'Before that, a step of the investigation failed: AnalyzerCrashed: out of memory',
    );
  });

  it('says that no key was changed when intake failed, and quotes the event source and id', () => {
    // Arrange: the state the workflow hands over when "Read the event" fails: {event, error}.
    const event = loadEvent('health-credentials-exposed');
    const state = {
      event,
      error: lambdaError('InvalidEventError', 'Event type X is not a leaked-credential event.'),
    };

    // Act
    const { subject, message } = renderFailureAlert(state, {
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:respond:abc',
      stateMachineLogGroup: '/aws/vendedlogs/states/ExposedKeyResponder-respond-to-exposed-key',
    });

    // Assert
    expect(subject).toBe(`[FAILED] Exposed-key response failed in ${ACCOUNT}: InvalidEventError`);
    expect(message).toMatch(/^The exposed-key responder FAILED and changed NO key\./);
    expect(message).toContain('InvalidEventError: Event type X is not a leaked-credential event.');
    expect(message).toContain('Nothing: the response stopped before containing any key.');
    expect(message).toContain(`Keys NOT deactivated: ${SAMPLE_KEY}.`);
    expect(message).toContain(
      'Source: aws.health   Type: AWS_RISK_CREDENTIALS_EXPOSED   Event id: 5b53b920-0000-0000-0000-000000000000',
    );
    expect(message).toContain(`Deactivate ${SAMPLE_KEY} by hand: aws iam update-access-key`);
    expect(message).toContain('arn:aws:states:us-east-1:123456789012:execution:respond:abc');
    expect(message).toContain('/aws/vendedlogs/states/ExposedKeyResponder-respond-to-exposed-key');
  });

  it('handles an event it cannot read at all', () => {
    // Act
    const { subject, message } = renderFailureAlert({
      event: 'garbage',
      error: lambdaError('InvalidEventError', 'The workflow input is string "garbage".'),
    });

    // Assert
    expect(subject).toBe('[FAILED] Exposed-key response failed in unknown account: InvalidEventError');
    expect(message).toContain('The event could not be read, so no key was identified.');
    expect(message).toContain('Source: unknown   Type: unknown   Event id: unknown');
  });

  it('lists what was deactivated when the failure came after containment', () => {
    // Arrange: the alert step failed; the state holds intake and containment.
    const state = {
      intake: anIntakeResult(),
      containment: [aContainedResult()],
      error: { Error: 'States.Timeout', Cause: '' },
    };

    // Act
    const { message } = renderFailureAlert(state);

    // Assert
    expect(message).toMatch(
      new RegExp(`^The exposed-key responder FAILED part-way\\. Deactivated: ${SAMPLE_KEY}\\.`),
    );
    expect(message).toContain(`${SAMPLE_KEY}: contained.`);
    expect(message).toMatch(/iam:UpdateAccessKey {2}ci-deployer\/AKIAEXAMPLEEXAMPLE12 {2}OK/);
    expect(message).toContain('Every named key was deactivated; the failure came after containment.');
    expect(message).toContain('Incident: 20250212-9205981a4439');
    expect(message).not.toContain('Deactivate AKIA');
  });

  it('names the keys still active when containment stopped part-way', () => {
    // Arrange
    const second = 'AKIAEXAMPLEEXAMPLE34';
    const state = {
      intake: anIntakeResult({ keys: [{ accessKeyId: SAMPLE_KEY }, { accessKeyId: second }] }),
      containment: [
        aContainedResult(),
        aContainedResult({
          accessKeyId: second,
          decision: 'failed',
          owner: { type: 'unknown' },
          actions: [],
          reason: 'The Contain step failed for this key; the key may still be active.',
        }),
      ],
      error: lambdaError('TransientAwsError', 'sns:Publish failed after retries'),
    };

    // Act
    const { message } = renderFailureAlert(state);

    // Assert
    expect(message).toContain(`Deactivated: ${SAMPLE_KEY}.`);
    expect(message).toContain(`Keys NOT deactivated: ${second}.`);
    expect(message).toContain(`Deactivate ${second} by hand`);
  });

  it('keeps the subject under 100 ASCII characters', () => {
    // Act
    const { subject } = renderFailureAlert({ error: { Error: `Custom.${'É'.repeat(200)}` } });

    // Assert
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7E]*$/);
  });
});

describe('summarizeEvent', () => {
  it('reads only well-typed fields and keys of a hostile event', () => {
    // Arrange
    const hostile = {
      source: { not: 'a string' },
      id: 'x'.repeat(500),
      detail: {
        affectedAccount: 123,
        eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED',
        affectedEntities: [null, { entityValue: 7 }, { entityValue: 'AKIAEXAMPLEEXAMPLE12' }, 'AKIA'],
      },
    };

    // Act
    const summary = summarizeEvent(hostile);

    // Assert
    expect(summary.source).toBeUndefined();
    expect(summary.id).toHaveLength(83);
    expect(summary.account).toBeUndefined();
    expect(summary.keys).toEqual([SAMPLE_KEY]);
  });
});
