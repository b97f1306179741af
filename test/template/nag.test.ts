import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { ACCOUNT, type Context, synthApp } from './app-under-test';

// cdk-nag 3 is a policy-validation plugin: validateScope() walks the construct tree and leaves out findings
// acknowledged with Validations.of(x).acknowledge() on the resource or an ancestor (NagPack.isAcknowledged
// reads the 'aws:cdk:acknowledged-rules' metadata), so `violations` holds only unacknowledged findings.
const { AwsSolutionsChecks } = require('cdk-nag');

interface Violation {
  ruleName: string;
  description: string;
  violatingResources: { constructPath?: string }[];
}

function violationsOf(stack: Stack): Violation[] {
  return new AwsSolutionsChecks().validateScope(stack).violations;
}

function describeViolations(violations: Violation[]): string {
  return violations
    .map(
      (v) =>
        `${v.ruleName}: ${v.description}\n    ${v.violatingResources.map((r) => r.constructPath).join('\n    ')}`,
    )
    .join('\n');
}

/** Every acknowledgement recorded anywhere in the tree: construct path, rule ID and reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: unknown }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

const contexts: [string, Context, string | undefined][] = [
  ['drills off', {}, ACCOUNT],
  ['drills on, loginProfile delete', { drills: 'true', loginProfile: 'delete' }, ACCOUNT],
  ['an environment-agnostic account', {}, undefined],
  [
    'Slack and e-mail notifications',
    {
      slack: '{"workspaceId":"T01ABCDEFGH","channelId":"C01ABCDEFGH"}',
      notificationEmails: 'sec@example.com',
    },
    ACCOUNT,
  ],
];

describe.each(contexts)('cdk-nag AwsSolutions with %s', (_label, context, account) => {
  const built = synthApp(context, account);
  const stacks: [string, Stack | undefined][] = [
    ['primary', built.primary],
    ['backup', built.backup],
  ];

  it.each(stacks)('finds no unacknowledged violation in the %s stack', (_name, stack) => {
    // Arrange
    expect(stack).toBeDefined();

    // Act
    const violations = violationsOf(stack as Stack);

    // Assert
    expect(describeViolations(violations)).toBe('');
  });

  it('gives every acknowledgement a reason of at least 20 characters', () => {
    // Act
    const acks = acknowledgements(built.app);

    // Assert
    expect(acks.length).toBeGreaterThan(5);
    const weak = acks.filter((a) => typeof a.reason !== 'string' || a.reason.trim().length < 20);
    expect(weak).toEqual([]);
  });
});

describe('the cdk-nag check itself', () => {
  it('reports an unacknowledged finding and leaves out an acknowledged one', () => {
    // Arrange: a queue without a DLQ (SQS3) and without enforced TLS (SQS4).
    const stack = new Stack(new App(), 'Probe');
    const queue = new sqs.Queue(stack, 'Queue', { encryption: sqs.QueueEncryption.SQS_MANAGED });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'A probe queue that needs no DLQ.',
    });

    // Act
    const rules = violationsOf(stack).map((v) => v.ruleName);

    // Assert
    expect(rules).toContain('AwsSolutions-SQS4');
    expect(rules).not.toContain('AwsSolutions-SQS3');
  });
});
