import { GetUserPolicyCommand, IAMClient, ListUserPoliciesCommand } from '@aws-sdk/client-iam';
import { type MotoServer, startMoto } from '../../scripts/emulator/moto';
import { LOCAL_ACCOUNT_ID, LocalResponder } from '../../scripts/local/local-responder';
import { keyStatuses, type SeededUser, seedUserWithTwoKeys } from '../../scripts/local/seed';

export { LOCAL_ACCOUNT_ID };

export interface Harness {
  moto: MotoServer;
  responder: LocalResponder;
  iam: IAMClient;
  seed(userName: string, tags?: Record<string, string>): Promise<SeededUser>;
  statuses(userName: string): Promise<Record<string, string>>;
  /** The inline policy documents of a user, parsed. */
  userPolicies(userName: string): Promise<Record<string, { Statement: Record<string, unknown>[] }>>;
  stop(): Promise<void>;
}

/** One emulator and one synthesized responder per test file (the handlers share process.env). */
export async function startHarness(context: Record<string, unknown>, waitMs = 0): Promise<Harness> {
  const moto = await startMoto();
  try {
    const responder = await LocalResponder.create({ endpoint: moto.endpoint, context, waitMs });
    const iam = new IAMClient({});
    return {
      moto,
      responder,
      iam,
      seed: (userName, tags) => seedUserWithTwoKeys(iam, userName, tags),
      statuses: (userName) => keyStatuses(iam, userName),
      async userPolicies(userName) {
        const names = (await iam.send(new ListUserPoliciesCommand({ UserName: userName }))).PolicyNames ?? [];
        const docs: Record<string, { Statement: Record<string, unknown>[] }> = {};
        for (const name of names) {
          const out = await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: name }));
          docs[name] = JSON.parse(decodeURIComponent(out.PolicyDocument ?? '{}'));
        }
        return docs;
      },
      stop: () => moto.stop(),
    };
  } catch (error) {
    await moto.stop();
    throw error;
  }
}
