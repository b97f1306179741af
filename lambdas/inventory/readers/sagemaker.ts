/**
 * SageMaker in one Region: notebook instances, training jobs started since the exposure, and endpoints.
 * All three bill by the hour for ML instances, GPU ones included, and none of them shows up in EC2.
 */
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeTrainingJobCommand,
  ListEndpointsCommand,
  ListNotebookInstancesCommand,
  ListTrainingJobsCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { sagemakerEndpointCleanup, sagemakerNotebookCleanup, sagemakerTrainingJobCleanup } from '../cleanup';
import { hourlyUsd } from '../pricing';
import type { InventoryItem, ReaderResult } from '../types';
import {
  compact,
  isNew,
  iso,
  mapLimit,
  paginate,
  type ReaderContext,
  type ReaderRun,
  runReader,
} from './common';

export type SageMakerClients = { sagemaker: SageMakerClient };

/** SageMaker's Describe calls allow a few per second; per-resource details go this many at a time. */
const DETAIL_CONCURRENCY = 4;

const priced = (instanceType: string | undefined, count: number, region: string, billing: boolean) => {
  if (!billing || !instanceType) return {};
  const price = hourlyUsd('sagemaker', instanceType, region);
  return price === undefined ? {} : { estimatedHourlyUsd: Math.round(price * count * 10_000) / 10_000 };
};

const priceBasis = (instanceType: string | undefined, region: string, billing: boolean) =>
  billing && instanceType && hourlyUsd('sagemaker', instanceType, region) === undefined
    ? `no list price for ${instanceType} in the shipped table`
    : undefined;

export async function readSageMaker(ctx: ReaderContext<SageMakerClients>): Promise<ReaderResult> {
  return runReader('sagemaker', ctx, async (run) => {
    await run.part('notebook instances', () => readNotebooks(run, ctx));
    await run.part('training jobs', () => readTrainingJobs(run, ctx));
    await run.part('endpoints', () => readEndpoints(run, ctx));
  });
}

async function readNotebooks(run: ReaderRun, ctx: ReaderContext<SageMakerClients>): Promise<void> {
  const { region, since, clients } = ctx;
  await paginate(
    run,
    'sagemaker:ListNotebookInstances',
    (NextToken) => clients.sagemaker.send(new ListNotebookInstancesCommand({ MaxResults: 100, NextToken })),
    (page) => page.NextToken,
    (page) => {
      for (const nb of page.NotebookInstances ?? []) {
        const name = nb.NotebookInstanceName;
        if (!name) continue;
        const status = nb.NotebookInstanceStatus ?? 'unknown';
        const billing = status === 'InService' || status === 'Pending' || status === 'Updating';
        // Like EC2 instances, a running one is listed whatever its age (the key may have started it); an
        // old stopped one is the owner's.
        if (!billing && !isNew(nb.CreationTime, since) && !isNew(nb.LastModifiedTime, since)) continue;
        run.items.push({
          service: 'sagemaker',
          type: 'notebook-instance',
          id: name,
          arn: nb.NotebookInstanceArn,
          region,
          createdAt: iso(nb.CreationTime),
          createdByKey: 'unknown',
          ...priced(nb.InstanceType, 1, region, billing),
          ...sagemakerNotebookCleanup(region, name, status),
          details: compact({
            instanceType: nb.InstanceType,
            status,
            lastModified: iso(nb.LastModifiedTime),
            priceBasis: priceBasis(nb.InstanceType, region, billing),
          }),
        });
      }
    },
  );
}

async function readTrainingJobs(run: ReaderRun, ctx: ReaderContext<SageMakerClients>): Promise<void> {
  const { region, since, clients } = ctx;
  const jobs: { name: string; arn?: string; createdAt?: string; status: string; ended?: string }[] = [];
  await paginate(
    run,
    'sagemaker:ListTrainingJobs',
    // Only jobs created since the exposure: older ones cannot be the key's (a job is never restarted).
    (NextToken) =>
      clients.sagemaker.send(
        new ListTrainingJobsCommand({ CreationTimeAfter: since, MaxResults: 100, NextToken }),
      ),
    (page) => page.NextToken,
    (page) => {
      for (const job of page.TrainingJobSummaries ?? []) {
        if (!job.TrainingJobName || !isNew(job.CreationTime, since)) continue;
        jobs.push({
          name: job.TrainingJobName,
          arn: job.TrainingJobArn,
          createdAt: iso(job.CreationTime),
          status: job.TrainingJobStatus ?? 'unknown',
          ended: iso(job.TrainingEndTime),
        });
      }
    },
  );
  // Pushed in listing order, not in the order the descriptions come back.
  const items: InventoryItem[] = await mapLimit(jobs, DETAIL_CONCURRENCY, async (job) => {
    const running = job.status === 'InProgress';
    // The instance type is only in the job's description; it is asked for the running ones, which bill.
    const described = running
      ? await run.optional('sagemaker:DescribeTrainingJob', () =>
          clients.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: job.name })),
        )
      : undefined;
    const instanceType = described?.ResourceConfig?.InstanceType;
    const count = described?.ResourceConfig?.InstanceCount ?? 1;
    return {
      service: 'sagemaker',
      type: 'training-job',
      id: job.name,
      arn: job.arn,
      region,
      createdAt: job.createdAt,
      createdByKey: 'unknown',
      ...priced(instanceType, count, region, running),
      ...sagemakerTrainingJobCleanup(region, job.name, job.status),
      details: compact({
        status: job.status,
        instanceType,
        instanceCount: described?.ResourceConfig ? count : undefined,
        trainingImage: described?.AlgorithmSpecification?.TrainingImage,
        roleArn: described?.RoleArn,
        ended: job.ended,
        priceBasis: priceBasis(instanceType, region, running),
      }),
    };
  });
  run.items.push(...items);
}

async function readEndpoints(run: ReaderRun, ctx: ReaderContext<SageMakerClients>): Promise<void> {
  const { region, since, clients } = ctx;
  const endpoints: { name: string; arn?: string; createdAt?: string; modified?: string; status: string }[] =
    [];
  await paginate(
    run,
    'sagemaker:ListEndpoints',
    (NextToken) => clients.sagemaker.send(new ListEndpointsCommand({ MaxResults: 100, NextToken })),
    (page) => page.NextToken,
    (page) => {
      for (const e of page.Endpoints ?? []) {
        if (!e.EndpointName) continue;
        // Created or updated (UpdateEndpoint can put an old endpoint on GPU instances) since the exposure.
        if (!isNew(e.CreationTime, since) && !isNew(e.LastModifiedTime, since)) continue;
        endpoints.push({
          name: e.EndpointName,
          arn: e.EndpointArn,
          createdAt: iso(e.CreationTime),
          modified: iso(e.LastModifiedTime),
          status: e.EndpointStatus ?? 'unknown',
        });
      }
    },
  );
  // Pushed in listing order, not in the order the descriptions come back.
  const items: InventoryItem[] = await mapLimit(endpoints, DETAIL_CONCURRENCY, async (e) => {
    // Instance types are in the endpoint config, which only the endpoint's description names.
    const endpoint = await run.optional('sagemaker:DescribeEndpoint', () =>
      clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: e.name })),
    );
    const configName = endpoint?.EndpointConfigName;
    const config = configName
      ? await run.optional('sagemaker:DescribeEndpointConfig', () =>
          clients.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName })),
        )
      : undefined;
    const variants = (config?.ProductionVariants ?? [])
      .filter((v) => v.InstanceType)
      .map((v) => ({ instanceType: v.InstanceType as string, count: v.InitialInstanceCount ?? 1 }));
    const billing = e.status !== 'Failed' && e.status !== 'Deleting' && e.status !== 'OutOfService';
    const prices = variants.map((v) => hourlyUsd('sagemaker', v.instanceType, region));
    const known = billing && variants.length > 0 && prices.every((p) => p !== undefined);
    const total = variants.reduce((sum, v, i) => sum + (prices[i] ?? 0) * v.count, 0);
    return {
      service: 'sagemaker',
      type: 'endpoint',
      id: e.name,
      arn: e.arn,
      region,
      createdAt: e.createdAt,
      createdByKey: 'unknown',
      ...(known ? { estimatedHourlyUsd: Math.round(total * 10_000) / 10_000 } : {}),
      ...sagemakerEndpointCleanup(region, e.name),
      details: compact({
        status: e.status,
        lastModified: e.modified,
        endpointConfigName: configName,
        variants,
        ...(billing && variants.length > 0 && !known
          ? { priceBasis: 'no list price for some instance types in the shipped table' }
          : {}),
      }),
    };
  });
  run.items.push(...items);
}
