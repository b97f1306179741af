import { IAMClient } from '@aws-sdk/client-iam';
import { ensureMotoInstalled } from '../emulator/ensure-moto';
import { startMoto } from '../emulator/moto';
import { healthEvent } from '../local/events';
import { LOCAL_ACCOUNT_ID, LocalResponder } from '../local/local-responder';
import { seedUserWithTwoKeys } from '../local/seed';
import { type CloudTrailRecord, cloudTrailRecord, startCloudTrailStandIn } from '../standins/cloudtrail';
import { report } from './stats';

/** 17 commonly enabled regions, shared by the collection and inventory benchmarks. */
export const BENCH_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'sa-east-1',
];
const EVENTS = 20_000;
/** CloudTrail's documented limit: 2 LookupEvents requests per second per region. */
const LIMIT_PER_REGION = 2;

/**
 * Collection throughput against the stand-in, which enforces AWS's documented 2 requests per
 * second per region: 20,000 events of one key spread over 17 regions, collected by the real
 * workflow. The ratio is the pages per second achieved over the documented limit (34 per second
 * for 17 regions); 1.0 would be every region at its limit the whole time.
 */
export async function benchCollect(): Promise<void> {
  ensureMotoInstalled();
  const moto = await startMoto();
  const cloudTrail = await startCloudTrailStandIn();
  try {
    const responder = await LocalResponder.create({
      endpoint: moto.endpoint,
      cloudTrailEndpoint: cloudTrail.endpoint,
      context: { regions: BENCH_REGIONS.join(',') },
    });
    const user = await seedUserWithTwoKeys(new IAMClient({}), 'bench-collected');
    const records: CloudTrailRecord[] = [];
    const start = Date.now() - 7 * 86_400_000;
    for (let i = 0; i < EVENTS; i++) {
      records.push(
        cloudTrailRecord({
          accessKeyId: user.victimKey,
          userName: user.userName,
          eventSource: 'ec2.amazonaws.com',
          eventName: 'DescribeInstances',
          awsRegion: BENCH_REGIONS[i % BENCH_REGIONS.length],
          eventTime: new Date(start + i * 1_000),
        }),
      );
    }
    cloudTrail.addRecords(records);

    let mapStarted = 0;
    let mapEnded = 0;
    const outcome = await responder.execute(
      healthEvent({ accessKeyIds: [user.victimKey], accountId: LOCAL_ACCOUNT_ID }),
      (step) => {
        if (step.state !== 'Collect activity in each region') return;
        if (step.type === 'StateEntered' && !mapStarted) mapStarted = step.at;
        if (step.type === 'StateExited') mapEnded = step.at;
      },
    );
    if (outcome.status !== 'SUCCEEDED')
      throw new Error(`The workflow failed: ${outcome.error} ${outcome.cause}`);
    const pages = BENCH_REGIONS.reduce((n, region) => n + cloudTrail.servedPages(region), 0);
    const seconds = (mapEnded - mapStarted) / 1000;
    const limit = LIMIT_PER_REGION * BENCH_REGIONS.length;
    report('collect.regions', BENCH_REGIONS.length);
    report('collect.events', EVENTS);
    report('collect.pages', pages);
    report('collect.throttled', cloudTrail.throttled());
    report('collect.wall_s', seconds, 2);
    report('collect.pages_per_s', pages / seconds, 2);
    report('collect.throughput_ratio', pages / seconds / limit, 3);
  } finally {
    await cloudTrail.stop();
    await moto.stop();
  }
}
