import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DRILL_SOURCE, LEAK_EVENT_CODES, QUARANTINE_POLICY_ARN_PREFIX } from '../lambdas/shared/event-codes';

/** The AWS Health risk events of a leaked credential. Shared with the backup-region stack. */
export const healthEventPattern: events.EventPattern = {
  source: ['aws.health'],
  detailType: ['AWS Health Event'],
  detail: { eventTypeCode: [...LEAK_EVENT_CODES] },
};

/** AWS attaching its quarantine policy to a user: often the first sign, seconds after the leak. */
export const quarantineEventPattern: events.EventPattern = {
  source: ['aws.iam'],
  detailType: ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['iam.amazonaws.com'],
    eventName: ['AttachUserPolicy'],
    sourceIPAddress: ['AWS Internal'],
    requestParameters: { policyArn: [{ prefix: QUARANTINE_POLICY_ARN_PREFIX }] },
  },
};

export const drillEventPattern: events.EventPattern = {
  source: [DRILL_SOURCE],
  detailType: ['AWS Health Event'],
};

/**
 * Event delivery is retried for a while and, failing that, kept in a queue: an event that
 * could not start the workflow must never vanish.
 */
export function deliveryOptions(deadLetterQueue: sqs.IQueue) {
  return { deadLetterQueue, retryAttempts: 20, maxEventAge: Duration.hours(6) };
}

export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself the dead-letter queue of the EventBridge targets; an alarm watches its depth.',
  });
  return queue;
}

export interface TriggersProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Create the drill rule. @default false */
  readonly drills?: boolean;
}

/** The rules that start the workflow. */
export class Triggers extends Construct {
  public readonly deadLetterQueue: sqs.Queue;
  public readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'UndeliveredEvents');
    const target = new targets.SfnStateMachine(props.stateMachine, deliveryOptions(this.deadLetterQueue));

    this.rules.push(
      new events.Rule(this, 'HealthRiskEvents', {
        description: 'AWS Health: an access key of this account was exposed or compromised',
        eventPattern: healthEventPattern,
        targets: [target],
      }),
      new events.Rule(this, 'AwsQuarantine', {
        description: 'AWS attached its compromised-key quarantine policy to a user',
        eventPattern: quarantineEventPattern,
        targets: [target],
      }),
    );
    if (props.drills) {
      this.rules.push(
        new events.Rule(this, 'Drills', {
          description: 'Drill events: act only on users tagged as drill canaries',
          eventPattern: drillEventPattern,
          targets: [target],
        }),
      );
    }
  }
}
