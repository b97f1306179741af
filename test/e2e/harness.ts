import { GetUserPolicyCommand, IAMClient, ListUserPoliciesCommand } from '@aws-sdk/client-iam';
import { type MotoServer, startMoto } from '../../scripts/emulator/moto';
import { LOCAL_ACCOUNT_ID, LocalResponder } from '../../scripts/local/local-responder';
import { keyStatuses, type SeededUser, seedUserWithTwoKeys } from '../../scripts/local/seed';
import {
  DEFAULT_SCENARIO_FILE,
  loadScenario,
  runScenario,
  type ScenarioRun,
  scenarioDurationMs,
} from '../../scripts/scenario/scenario';
import { type CloudTrailStandIn, startCloudTrailStandIn } from '../../scripts/standins/cloudtrail';
import { type LightsailStandIn, startLightsailStandIn } from '../../scripts/standins/lightsail';

export { LOCAL_ACCOUNT_ID };

export interface Harness {
  moto: MotoServer;
  cloudTrail: CloudTrailStandIn;
  lightsail: LightsailStandIn;
  responder: LocalResponder;
  iam: IAMClient;
  seed(userName: string, tags?: Record<string, string>): Promise<SeededUser>;
  statuses(userName: string): Promise<Record<string, string>>;
  /** Seeds `userName` with two keys and has the attacker play the default scenario with the first, backdated. */
  playDefaultScenario(userName: string): Promise<{ user: SeededUser; run: ScenarioRun }>;
  /** The inline policy documents of a user, parsed. */
  userPolicies(userName: string): Promise<Record<string, { Statement: Record<string, unknown>[] }>>;
  stop(): Promise<void>;
}

/** One emulator and one synthesized responder per test file (the handlers share process.env). */
export interface HarnessOptions {
  /** How long Wait states really wait, in ms. @default 0 */
  waitMs?: number;
  /** Load AWS managed policies into the emulator (an attacker attaching AdministratorAccess needs them). */
  managedPolicies?: boolean;
}

export async function startHarness(
  context: Record<string, unknown>,
  options: HarnessOptions = {},
): Promise<Harness> {
  const moto = await startMoto(
    options.managedPolicies ? { env: { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } } : {},
  );
  const cloudTrail = await startCloudTrailStandIn({ upstream: moto.endpoint });
  const lightsail = await startLightsailStandIn();
  try {
    const responder = await LocalResponder.create({
      endpoint: moto.endpoint,
      cloudTrailEndpoint: cloudTrail.endpoint,
      lightsailEndpoint: lightsail.endpoint,
      context,
      waitMs: options.waitMs ?? 0,
    });
    const iam = new IAMClient({});
    return {
      moto,
      cloudTrail,
      lightsail,
      responder,
      iam,
      seed: (userName, tags) => seedUserWithTwoKeys(iam, userName, tags),
      statuses: (userName) => keyStatuses(iam, userName),
      async playDefaultScenario(userName) {
        const user = await seedUserWithTwoKeys(iam, userName);
        const scenario = loadScenario(DEFAULT_SCENARIO_FILE);
        const run = await runScenario(scenario, {
          endpoint: moto.endpoint,
          cloudTrail,
          lightsail,
          accountId: LOCAL_ACCOUNT_ID,
          leaked: { accessKeyId: user.victimKey, secretAccessKey: 'e2e', userName },
          // The attack happened before AWS reported the leak; the stand-in hides events from the future.
          start: new Date(Date.now() - scenarioDurationMs(scenario) - 60_000),
        });
        return { user, run };
      },
      async userPolicies(userName) {
        const names = (await iam.send(new ListUserPoliciesCommand({ UserName: userName }))).PolicyNames ?? [];
        const docs: Record<string, { Statement: Record<string, unknown>[] }> = {};
        for (const name of names) {
          const out = await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: name }));
          docs[name] = JSON.parse(decodeURIComponent(out.PolicyDocument ?? '{}'));
        }
        return docs;
      },
      stop: () => stopAll(),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }

  async function stopAll(): Promise<void> {
    await lightsail.stop();
    await cloudTrail.stop();
    await moto.stop();
  }
}
