import { type ParseOptions, parseAwsTime, parseEvent } from '../../lambdas/intake/parse-event';
import { InvalidEventError } from '../../lambdas/shared/errors';
import { DRILL_SOURCE } from '../../lambdas/shared/event-codes';
import { ACCOUNT, loadEvent, type MutableEvent, SAMPLE_KEY } from '../fixtures/events';

const RECEIVED_AT = new Date('2025-02-12T00:38:40.000Z');
const options: ParseOptions = { drillsEnabled: false, receivedAt: RECEIVED_AT, primaryRegion: 'us-east-1' };

function parseHealth(raw: unknown, opts: ParseOptions = options) {
  const parsed = parseEvent(raw, opts);
  if (parsed.kind !== 'health') throw new Error(`expected a health result, got ${parsed.kind}`);
  return parsed;
}

/** Runs parseEvent and returns the error it throws, failing the test if it throws nothing. */
function rejectionOf(raw: unknown, opts: ParseOptions = options): Error {
  try {
    parseEvent(raw, opts);
  } catch (error) {
    return error as Error;
  }
  throw new Error('parseEvent accepted the event');
}

describe('parseEvent: AWS Health risk events', () => {
  it('turns the documented sample into an incident with the exposed key', () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');

    // Act
    const parsed = parseHealth(event);

    // Assert
    expect(parsed.incident).toEqual({
      incidentId: expect.stringMatching(/^20250212-[0-9a-f]{12}$/),
      accountId: ACCOUNT,
      trigger: 'health',
      eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED',
      notificationId: 'acf0ec86-example',
      detectedAt: '2025-02-12T00:37:54.000Z',
      receivedAt: '2025-02-12T00:38:40.000Z',
      exposedUrl: 'https://github.com/example/repo',
      deliveredInRegion: 'us-east-1',
      backupCopy: false,
    });
    expect(parsed.keys).toEqual([{ accessKeyId: SAMPLE_KEY, reportedUserName: 'ci-deployer' }]);
    expect(parsed.rejected).toEqual([]);
    expect(parsed.consoleUsers).toEqual([]);
  });

  it('gives re-deliveries of one notification the same incidentId, and another account a different one', () => {
    // Arrange
    const first = loadEvent('health-credentials-exposed');
    const redelivery = loadEvent('health-credentials-exposed');
    redelivery.id = 'another-envelope-id';
    redelivery.time = '2025-02-12T00:45:00Z';
    const otherAccount = loadEvent('health-credentials-exposed');
    otherAccount.detail.affectedAccount = '210987654321';
    const otherNotification = loadEvent('health-credentials-exposed');
    otherNotification.detail.communicationId = 'another-communication';

    // Act
    const ids = [first, redelivery, otherAccount, otherNotification].map(
      (e) => parseHealth(e).incident.incidentId,
    );

    // Assert
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[3]).not.toBe(ids[0]);
  });

  it('reads detectedAt from the RFC 1123 startTime, falling back to the envelope time', () => {
    // Arrange
    const withoutStart = loadEvent('health-credentials-exposed');
    delete withoutStart.detail.startTime;

    // Act
    const fromStart = parseHealth(loadEvent('health-credentials-exposed')).incident.detectedAt;
    const fromEnvelope = parseHealth(withoutStart).incident.detectedAt;

    // Assert
    expect(fromStart).toBe('2025-02-12T00:37:54.000Z');
    expect(fromEnvelope).toBe('2025-02-12T00:38:36Z');
    expect(parseAwsTime('Wed, 12 Feb 2025 00:37:54 GMT')).toBe('2025-02-12T00:37:54.000Z');
    expect(parseAwsTime('not a date')).toBeUndefined();
  });

  it('marks the copy carrying detail.backupEvent as a backup copy', () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');
    event.detail.backupEvent = true;

    // Act
    const { incident } = parseHealth(event);

    // Assert
    expect(incident.backupCopy).toBe(true);
  });

  it('marks an event delivered in a region other than the primary as a backup copy, with the same incidentId', () => {
    // Arrange
    const primary = loadEvent('health-credentials-exposed');
    const copy = loadEvent('health-credentials-exposed');
    copy.region = 'us-west-2';

    // Act
    const fromPrimary = parseHealth(primary).incident;
    const fromBackup = parseHealth(copy).incident;

    // Assert
    expect(fromBackup.backupCopy).toBe(true);
    expect(fromBackup.deliveredInRegion).toBe('us-west-2');
    expect(fromBackup.incidentId).toBe(fromPrimary.incidentId);
    expect(fromPrimary.backupCopy).toBe(false);
  });

  it('does not take the region "global" for a backup copy', () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');
    event.region = 'global';

    // Act
    const { incident } = parseHealth(event);

    // Assert
    expect(incident.backupCopy).toBe(false);
  });

  // BUG: AWS documents filtering backup copies with `detail.backupEvent = False`, so primary copies can
  // carry backupEvent: false; parse-event treats any defined value as "backup copy".
  it('does not take an event with detail.backupEvent false for a backup copy', () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');
    event.detail.backupEvent = false;

    // Act
    const { incident } = parseHealth(event);

    // Assert
    expect(incident.backupCopy).toBe(false);
  });

  it('collects every key of several entities plus eventMetadata.publicKey once each, and rejects the rest with reasons', () => {
    // Arrange
    const event = loadEvent('health-several-entities');

    // Act
    const parsed = parseHealth(event);

    // Assert
    expect(parsed.keys.map((k) => k.accessKeyId)).toEqual([
      'AKIAEXAMPLEEXAMPLE12',
      'AKIAEXAMPLEEXAMPLE34',
      'AKIAEXAMPLEEXAMPLE56',
    ]);
    expect(parsed.rejected).toEqual([
      { value: 'ASIAEXAMPLEEXAMPLE78', reason: expect.stringMatching(/temporary \(ASIA\) credential/) },
      {
        value: 'arn:aws:iam::123456789012:user/ci-deployer',
        reason: expect.stringMatching(/not an access key ID/),
      },
      { value: '', reason: 'empty entity value' },
      { value: 'number 42', reason: 'entity value is not a string' },
    ]);
    expect(parsed.incident.exposedUrl).toBeUndefined();
  });

  it('rejects an ASIA (temporary) key but still contains the AKIA key next to it', () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');
    event.detail.affectedEntities = [{ entityValue: 'ASIAEXAMPLEEXAMPLE78' }, { entityValue: SAMPLE_KEY }];

    // Act
    const parsed = parseHealth(event);

    // Assert
    expect(parsed.keys.map((k) => k.accessKeyId)).toEqual([SAMPLE_KEY]);
    expect(parsed.rejected).toHaveLength(1);
    expect(parsed.rejected[0].reason).toMatch(/cannot be deactivated/);
  });

  it('truncates a long rejected value so a hostile event cannot bloat the workflow state', () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');
    event.detail.affectedEntities = [{ entityValue: SAMPLE_KEY }, { entityValue: 'x'.repeat(500) }];

    // Act
    const parsed = parseHealth(event);

    // Assert
    expect(parsed.rejected[0].value.length).toBeLessThan(100);
    expect(parsed.rejected[0].value).toContain('(500 chars)');
  });

  it('uses detail.affectedAccount as the owner account under the organizational view', () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');
    event.account = '999999999999';
    event.detail.affectedAccount = '210987654321';

    // Act
    const { incident } = parseHealth(event);

    // Assert
    expect(incident.accountId).toBe('210987654321');
  });

  it('lists the users of a console-compromise event instead of keys', () => {
    // Arrange
    const event = loadEvent('health-console-compromise');

    // Act
    const parsed = parseHealth(event);

    // Assert
    expect(parsed.consoleUsers).toEqual(['alice', 'bob.smith@example.com']);
    expect(parsed.keys).toEqual([]);
    expect(parsed.incident.eventTypeCode).toBe('AWS_RISK_ACCOUNT_CONSOLE_COMPROMISE');
  });

  it('accepts a drill event as trigger "drill" when drills are enabled, one incident per drill event', () => {
    // Arrange
    const drill = loadEvent('health-credentials-exposed');
    drill.source = DRILL_SOURCE;
    const secondDrill = loadEvent('health-credentials-exposed');
    secondDrill.source = DRILL_SOURCE;
    secondDrill.id = 'second-drill';
    const drillOptions = { ...options, drillsEnabled: true };

    // Act
    const first = parseHealth(drill, drillOptions).incident;
    const second = parseHealth(secondDrill, drillOptions).incident;

    // Assert
    expect(first.trigger).toBe('drill');
    expect(first.notificationId).toBe(`acf0ec86-example#${drill.id}`);
    expect(second.incidentId).not.toBe(first.incidentId);
  });
});

describe('parseEvent: AWS quarantine (CloudTrail AttachUserPolicy)', () => {
  it('turns AWS attaching AWSCompromisedKeyQuarantineV2 into a quarantine incident naming the user', () => {
    // Arrange
    const event = loadEvent('cloudtrail-quarantine');

    // Act
    const parsed = parseEvent(event, options);

    // Assert
    expect(parsed.kind).toBe('quarantine');
    if (parsed.kind !== 'quarantine') return;
    expect(parsed.quarantinedUser).toBe('ci-deployer');
    expect(parsed.incident).toMatchObject({
      trigger: 'quarantine',
      accountId: ACCOUNT,
      notificationId: '6d5c4b3a-0000-0000-0000-000000000000',
      detectedAt: '2025-02-12T00:34:19.000Z',
      backupCopy: false,
    });
  });

  it.each(['V3', 'V4'])('accepts the newer quarantine policy %s', (version) => {
    // Arrange
    const event = loadEvent('cloudtrail-quarantine');
    event.detail.requestParameters = {
      userName: 'ci-deployer',
      policyArn: `arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine${version}`,
    };

    // Act
    const parsed = parseEvent(event, options);

    // Assert
    expect(parsed.kind).toBe('quarantine');
  });
});

describe('parseEvent: malformed and hostile input', () => {
  type Case = [label: string, build: () => unknown, expectedWords: RegExp[]];
  const health = (change: (e: MutableEvent) => void) => () => {
    const event = loadEvent('health-credentials-exposed');
    change(event);
    return event;
  };
  const quarantine = (change: (e: MutableEvent) => void) => () => {
    const event = loadEvent('cloudtrail-quarantine');
    change(event);
    return event;
  };
  const withoutPublicKey = (e: MutableEvent) => {
    delete e.detail.eventMetadata?.publicKey;
  };

  const cases: Case[] = [
    ['null', () => null, [/input is null/, /not an EventBridge event/]],
    ['an array', () => [loadEvent('health-credentials-exposed')], [/input is an array/]],
    ['a string', () => 'AKIAEXAMPLEEXAMPLE12', [/input is string "AKIAEXAMPLEEXAMPLE12"/]],
    ['a number', () => 42, [/input is number 42/]],
    [
      'an unexpected source',
      health((e) => {
        e.source = 'aws.ec2';
      }),
      [/Unexpected event source "aws\.ec2"/],
    ],
    [
      'a look-alike source',
      health((e) => {
        e.source = 'awsmock.health';
      }),
      [/Unexpected event source "awsmock\.health"/],
    ],
    [
      'a drill while drills are disabled',
      health((e) => {
        e.source = DRILL_SOURCE;
      }),
      [/Drill events/, /refused/, /drills=true/],
    ],
    [
      'no detail',
      health((e) => {
        delete (e as Partial<MutableEvent>).detail;
      }),
      [/AWS Health event is malformed/, /\bdetail\b/, /Nothing was changed/],
    ],
    [
      'the wrong detail-type',
      health((e) => {
        e['detail-type'] = 'EC2 Instance State-change Notification';
      }),
      [/malformed/, /detail-type/],
    ],
    [
      'no affectedEntities and no publicKey',
      health((e) => {
        delete e.detail.affectedEntities;
        withoutPublicKey(e);
      }),
      [/names no key to contain/, /no affected entity and no eventMetadata\.publicKey/],
    ],
    [
      'only an invalid key format',
      health((e) => {
        e.detail.affectedEntities = [{ entityValue: 'AKIA-not-a-key' }];
        withoutPublicKey(e);
      }),
      [/names no key to contain/, /AKIA-not-a-key: not an access key ID/],
    ],
    [
      'only a temporary ASIA key',
      health((e) => {
        e.detail.affectedEntities = [{ entityValue: 'ASIAEXAMPLEEXAMPLE78' }];
        withoutPublicKey(e);
      }),
      [/names no key to contain/, /temporary \(ASIA\)/],
    ],
    [
      'affectedEntities as a string',
      health((e) => {
        e.detail.affectedEntities = SAMPLE_KEY;
      }),
      [/malformed/, /detail\.affectedEntities/],
    ],
    [
      'an affected entity that is null',
      health((e) => {
        e.detail.affectedEntities = [null];
      }),
      [/malformed/, /detail\.affectedEntities\.0/],
    ],
    [
      'eventTypeCode as a number',
      health((e) => {
        e.detail.eventTypeCode = 42;
      }),
      [/malformed/, /detail\.eventTypeCode/],
    ],
    [
      'an eventTypeCode that is not a leak code',
      health((e) => {
        e.detail.eventTypeCode = 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED';
      }),
      [
        /AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED is not a leaked-credential event/,
        /AWS_RISK_CREDENTIALS_EXPOSED/,
      ],
    ],
    [
      'neither communicationId nor eventArn',
      health((e) => {
        delete e.detail.communicationId;
        delete e.detail.eventArn;
      }),
      [/neither detail\.communicationId nor detail\.eventArn/],
    ],
    [
      '251 affected entities',
      health((e) => {
        e.detail.affectedEntities = Array.from({ length: 251 }, (_, i) => ({
          entityValue: `AKIAEXAMPLE${String(i).padStart(9, '0')}`,
        }));
      }),
      [/malformed/, /more than 250 affected entities/],
    ],
    [
      'an oversized entity value (600 chars) as the only entity',
      health((e) => {
        e.detail.affectedEntities = [{ entityValue: 'A'.repeat(600) }];
        withoutPublicKey(e);
      }),
      [/names no key to contain/, /\(600 chars\): not an access key ID/],
    ],
    [
      'an oversized eventMetadata.publicKey (600 chars)',
      health((e) => {
        e.detail.eventMetadata = { publicKey: 'A'.repeat(600) };
      }),
      [/malformed/, /detail\.eventMetadata\.publicKey: longer than 512 characters/],
    ],
    [
      'a malformed account',
      health((e) => {
        e.account = '12345';
      }),
      [/malformed/, /account: must be a 12-digit AWS account ID/],
    ],
    [
      'an unreadable envelope time',
      health((e) => {
        e.time = 'yesterday';
      }),
      [/malformed/, /time: must be a date-time/],
    ],
    [
      'a quarantine policy attached from a user IP instead of AWS Internal',
      quarantine((e) => {
        e.detail.sourceIPAddress = '203.0.113.9';
      }),
      [/attached by 203\.0\.113\.9, not by AWS \("AWS Internal"\)/, /not a leak signal/],
    ],
    [
      'a non-quarantine policy attached by AWS',
      quarantine((e) => {
        e.detail.requestParameters = {
          userName: 'ci-deployer',
          policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
        };
      }),
      [/AdministratorAccess is not AWS's quarantine policy/],
    ],
    [
      'a quarantine AttachUserPolicy that failed',
      quarantine((e) => {
        e.detail.errorCode = 'AccessDenied';
      }),
      [/quarantine AttachUserPolicy failed \(AccessDenied\)/],
    ],
    [
      'a quarantine event without the user name',
      quarantine((e) => {
        e.detail.requestParameters = { policyArn: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2' };
      }),
      [/quarantine \(CloudTrail AttachUserPolicy\) event is malformed/, /requestParameters\.userName/],
    ],
    [
      'an aws.iam event for another API call',
      quarantine((e) => {
        e.detail.eventName = 'DetachUserPolicy';
      }),
      [/malformed/, /detail\.eventName/],
    ],
  ];

  it.each(cases)('rejects %s with an InvalidEventError naming the problem', (_label, build, words) => {
    // Arrange
    const raw = build();

    // Act
    const error = rejectionOf(raw);

    // Assert
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error.name).toBe('InvalidEventError');
    for (const word of words) expect(error.message).toMatch(word);
  });

  it('keeps the message short when the hostile value is huge', () => {
    // Arrange
    const event = loadEvent('health-credentials-exposed');
    event.source = `evil.${'x'.repeat(10_000)}`;

    // Act
    const error = rejectionOf(event);

    // Assert
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).toContain('chars)');
  });

  // BUG: zod/mini ships no error locale, so every schema problem reads "Invalid input" without saying
  // what was expected (production bundles never load classic zod, which would install the English locale).
  it('says what was expected when a field has the wrong type', () => {
    // Arrange
    const notAnArray = loadEvent('health-credentials-exposed');
    notAnArray.detail.affectedEntities = SAMPLE_KEY;
    const noDetail = loadEvent('health-credentials-exposed');
    delete (noDetail as Partial<MutableEvent>).detail;

    // Act
    const arrayError = rejectionOf(notAnArray);
    const detailError = rejectionOf(noDetail);

    // Assert
    expect(arrayError.message).toMatch(/expected array, received string/);
    expect(detailError.message).toMatch(/expected object, received undefined/);
  });
});
