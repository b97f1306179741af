import { IAMClient } from '@aws-sdk/client-iam';
import type { ContainmentResult } from '../../lambdas/shared/types';
import { ensureMotoInstalled } from '../emulator/ensure-moto';
import { startMoto } from '../emulator/moto';
import { healthEvent } from '../local/events';
import { LOCAL_ACCOUNT_ID, LocalResponder } from '../local/local-responder';
import { seedUserWithTwoKeys } from '../local/seed';
import { percentile, report } from './stats';

/**
 * Containment latency: from the start of an execution to the moment IAM accepted the
 * deactivation (Intake + Contain), over `runs` fresh leaks on the emulator.
 */
export async function benchContainment(runs = 50): Promise<void> {
  ensureMotoInstalled();
  const moto = await startMoto();
  try {
    const responder = await LocalResponder.create({ endpoint: moto.endpoint, context: {} });
    const iam = new IAMClient({});
    const latencies: number[] = [];
    // Two warm-up runs load the handlers and the SDK, as a warm Lambda would have them.
    for (let i = 0; i < runs + 2; i++) {
      const user = await seedUserWithTwoKeys(iam, `bench-user-${i}`);
      const outcome = await responder.execute(
        healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
      );
      const [result] = (outcome.taskOutputs['Contain the key'] ?? []) as ContainmentResult[];
      if (!result?.containedAt)
        throw new Error(`Run ${i} did not contain the key: ${outcome.status} ${outcome.error ?? ''}`);
      if (i >= 2) latencies.push(Date.parse(result.containedAt) - outcome.startedAt);
    }
    await responder.readAlerts();
    report('containment.runs', latencies.length);
    report('containment.p50_ms', percentile(latencies, 50));
    report('containment.p95_ms', percentile(latencies, 95));
    report('containment.max_ms', Math.max(...latencies));
  } finally {
    await moto.stop();
  }
}
