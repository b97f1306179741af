import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  /** Addresses subscribed by e-mail (each must confirm the subscription AWS sends). */
  readonly emails: string[];
  /** The Slack channel AWS Chatbot posts the topic's messages to (the workspace must be authorized once in the Chatbot console). */
  readonly slack?: { workspaceId: string; channelId: string };
}

/** The alert topic: encrypted with a key of its own, TLS only, e-mail subscriptions from config. */
export class Notifications extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;
  public readonly slackChannel?: chatbot.SlackChannelConfiguration;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'TopicKey', {
      description: 'exposed-key-responder alert topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to the topic, so they must be able to use its key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Alerts', {
      displayName: 'Exposed key responder',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    if (props.slack) {
      // Messages only: the guardrail denies every action, so nobody can run AWS commands from the channel
      // through this configuration, whatever role a Slack user maps to.
      this.slackChannel = new chatbot.SlackChannelConfiguration(this, 'SlackChannel', {
        slackChannelConfigurationName: `${Stack.of(this).stackName}-alerts`.slice(0, 128),
        slackWorkspaceId: props.slack.workspaceId,
        slackChannelId: props.slack.channelId,
        notificationTopics: [this.topic],
        guardrailPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AWSDenyAll')],
        userRoleRequired: false,
        loggingLevel: chatbot.LoggingLevel.ERROR,
      });
    }
  }
}
