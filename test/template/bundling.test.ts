import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import { ACCOUNT } from './app-under-test';

// The one test that bundles for real with esbuild (and keeps CDK's built-in CloudFormation validation):
// the others skip both for speed.
describe('bundling', () => {
  it('bundles every Lambda into an asset with its handler and source map', () => {
    // Arrange
    const { app, primary } = buildApp({}, ACCOUNT);

    // Act
    const template = Template.fromStack(primary);
    const assembly = app.synth();

    // Assert
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    expect(functions.map(([id]) => id)).toEqual(
      expect.arrayContaining(
        ['Intake', 'Contain', 'Alert', 'NotifyFailure'].map((id) => expect.stringMatching(`^${id}`)),
      ),
    );
    for (const [id, fn] of functions) {
      const s3Key = String(fn.Properties.Code.S3Key);
      expect({ id, s3Key }).toEqual({ id, s3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) });
      const assetDir = path.join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`);
      const bundle = path.join(assetDir, 'index.js');
      expect({ id, bundle: fs.existsSync(bundle) }).toEqual({ id, bundle: true });
      expect(fs.existsSync(`${bundle}.map`)).toBe(true);
      const size = fs.statSync(bundle).size;
      expect(size).toBeGreaterThan(1_000);
      // Each bundle carries its pinned SDK clients, minified (~350-500 KB); well past that, something
      // unintended (a whole SDK, classic zod, the credential fallbacks) was pulled in.
      expect(size).toBeLessThan(1_500_000);
    }
  }, 120_000);
});
