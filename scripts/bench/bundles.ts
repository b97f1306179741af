import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../../lib/app';
import { ResponderFunction } from '../../lib/responder-function';
import { median, report } from './stats';

const INIT_SAMPLES = 7;

/**
 * Bundles every Lambda exactly as `cdk synth` does, then reports each bundle's minified size and
 * the time Node takes to load it (the module-scope work of a cold start: the code, Powertools and
 * the AWS SDK clients it imports). Each load is a fresh process; the median of several is reported.
 */
export function benchBundles(): void {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ekr-bench-synth-'));
  try {
    // Asset metadata (as the CDK CLI asks for it) says where each function's bundle went.
    const { app, primary } = buildApp(
      { outdir, context: { 'aws:cdk:enable-asset-metadata': true } },
      '123456789012',
    );
    const assembly = app.synth();
    const template = assembly.getStackByName(primary.stackName).template as {
      Resources: Record<string, { Metadata?: Record<string, string> }>;
    };
    const functions = primary.node
      .findAll()
      .filter((c): c is ResponderFunction => c instanceof ResponderFunction);
    for (const fn of functions) {
      const logicalId = primary.getLogicalId(fn.node.defaultChild as never);
      const assetPath = template.Resources[logicalId]?.Metadata?.['aws:asset:path'];
      if (!assetPath) throw new Error(`No bundled asset for ${logicalId}`);
      const bundle = path.join(assembly.directory, assetPath, 'index.js');
      report(`bundle.${fn.step}.kb`, statSync(bundle).size / 1024);
      const samples = Array.from({ length: INIT_SAMPLES }, () => loadTimeMs(bundle));
      report(`bundle.${fn.step}.init_ms`, median(samples));
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function loadTimeMs(bundle: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));`;
  const run = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    // Resolve the SDK (external to the bundle, as in the Lambda runtime) from the project's node_modules.
    env: {
      ...process.env,
      NODE_PATH: path.join(__dirname, '../../node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  if (run.status !== 0) throw new Error(`Loading ${bundle} failed: ${run.stderr}`);
  return Number(run.stdout);
}
