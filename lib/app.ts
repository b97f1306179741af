import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BackupRegionStack } from './backup-region-stack';
import { parseConfig, type ResponderConfig } from './config';
import { ResponderStack } from './responder-stack';

export interface ResponderApp {
  app: App;
  config: ResponderConfig;
  primary: ResponderStack;
  backup?: BackupRegionStack;
}

/** Builds the whole app from context. bin/app.ts, the tests and the drill all come through here. */
export function buildApp(props: AppProps = {}, account = process.env.CDK_DEFAULT_ACCOUNT): ResponderApp {
  const app = new App(props);
  const config = parseConfig((key) => app.node.tryGetContext(key));
  const primary = new ResponderStack(app, 'ExposedKeyResponder', {
    env: { account, region: config.primaryRegion },
    description: 'exposed-key-responder: contains leaked AWS access keys and alerts',
    config,
  });
  const backup = config.backupRegion
    ? new BackupRegionStack(app, 'ExposedKeyResponderBackup', {
        env: { account, region: config.backupRegion },
        description: `exposed-key-responder: forwards Health events from ${config.backupRegion} to ${config.primaryRegion}`,
        primaryRegion: config.primaryRegion,
        notificationEmails: config.notificationEmails,
        slack: config.slack,
      })
    : undefined;
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, config, primary, backup };
}
