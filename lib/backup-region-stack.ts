import { Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { deadLetterQueue, deliveryOptions, healthEventPattern } from './triggers';

export interface BackupRegionStackProps extends StackProps {
  /** The region whose default event bus receives the forwarded events. */
  readonly primaryRegion: string;
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
    new events.Rule(this, 'ForwardHealthRiskEvents', {
      description: `Forwards leaked-credential Health events to ${props.primaryRegion}, where the responder runs`,
      eventPattern: healthEventPattern,
      targets: [
        new targets.EventBus(primaryBus, deliveryOptions(deadLetterQueue(this, 'UndeliveredEvents'))),
      ],
    });
  }
}
