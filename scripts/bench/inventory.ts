import { IAMClient } from '@aws-sdk/client-iam';
import type { InventoryRegionOutput } from '../../lambdas/inventory/handler';
import { ensureMotoInstalled } from '../emulator/ensure-moto';
import { startMoto } from '../emulator/moto';
import { healthEvent } from '../local/events';
import { LOCAL_ACCOUNT_ID, LocalResponder } from '../local/local-responder';
import { seedUserWithTwoKeys } from '../local/seed';
import { startCloudTrailStandIn } from '../standins/cloudtrail';
import { startLightsailStandIn } from '../standins/lightsail';
import { BENCH_REGIONS } from './collect';
import { report } from './stats';

/** The inventory of 17 regions on the emulator, as the workflow takes it: wall time and API calls. */
export async function benchInventory(): Promise<void> {
  ensureMotoInstalled();
  const moto = await startMoto();
  const cloudTrail = await startCloudTrailStandIn({ upstream: moto.endpoint });
  const lightsail = await startLightsailStandIn();
  try {
    const responder = await LocalResponder.create({
      endpoint: moto.endpoint,
      cloudTrailEndpoint: cloudTrail.endpoint,
      lightsailEndpoint: lightsail.endpoint,
      context: { regions: BENCH_REGIONS.join(',') },
    });
    const user = await seedUserWithTwoKeys(new IAMClient({}), 'bench-inventory');
    let started = 0;
    let ended = 0;
    const outcome = await responder.execute(
      healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
      (step) => {
        if (step.state !== 'Take the inventory of each region') return;
        if (step.type === 'StateEntered' && !started) started = step.at;
        if (step.type === 'StateExited') ended = step.at;
      },
    );
    if (outcome.status !== 'SUCCEEDED')
      throw new Error(`The workflow failed: ${outcome.error} ${outcome.cause}`);
    const regions = (outcome.taskOutputs['Take the inventory of a region'] ?? []) as InventoryRegionOutput[];
    report('inventory.regions', regions.length);
    report('inventory.wall_s', (ended - started) / 1000, 2);
    report(
      'inventory.api_calls',
      regions.reduce((n, r) => n + r.apiCalls, 0),
    );
  } finally {
    await lightsail.stop();
    await cloudTrail.stop();
    await moto.stop();
  }
}
