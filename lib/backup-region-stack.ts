import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { alarmOnAny } from './alarms';
import { Notifications } from './notifications';
import { deadLetterQueue, healthEventPattern } from './triggers';

export interface BackupRegionStackProps extends StackProps {
  /** The region whose default event bus receives the forwarded events. */
  readonly primaryRegion: string;
  /** Who hears about events that could not be forwarded (alarms notify topics of their own region only). */
  readonly notificationEmails: string[];
  /** The same Slack channel as the primary stack's, so a stuck event reaches chat too. */
  readonly slack?: { workspaceId: string; channelId: string };
}

/**
 * AWS recommends a backup rule for IAM's Health events in a second region. This stack forwards
 * them to the primary region's bus; the workflow's de-duplication makes the copy harmless.
 */
export class BackupRegionStack extends Stack {
  constructor(scope: Construct, id: string, props: BackupRegionStackProps) {
    super(scope, id, props);
    const primaryBus = events.EventBus.fromEventBusArn(
      this,
      'PrimaryBus',
      this.formatArn({
        service: 'events',
        region: props.primaryRegion,
        resource: 'event-bus',
        resourceName: 'default',
      }),
    );
    const undelivered = deadLetterQueue(this, 'UndeliveredEvents');
    new events.Rule(this, 'ForwardHealthRiskEvents', {
      description: `Forwards leaked-credential Health events to ${props.primaryRegion}, where the responder runs`,
      eventPattern: healthEventPattern,
      // Event-bus targets take no retry policy: EventBridge retries them itself, then dead-letters.
      targets: [new targets.EventBus(primaryBus, { deadLetterQueue: undelivered })],
    });
    const notifications = new Notifications(this, 'Notifications', {
      emails: props.notificationEmails,
      slack: props.slack,
    });
    alarmOnAny(
      this,
      'UndeliveredEventsAlarm',
      undelivered.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      `A leaked-key event could not be forwarded to ${props.primaryRegion}: it waits in the dead-letter queue.`,
      notifications.topic,
    );
  }
}
