/**
 * ECS in one Region: clusters, their services and their running tasks. Fargate tasks are compute that
 * never appears in EC2; a service with a desired count restarts any task that is only stopped.
 */
import {
  type Cluster,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListClustersCommand,
  ListServicesCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { ecsClusterCleanup, ecsServiceCleanup, ecsTaskCleanup } from '../cleanup';
import { fargateHourlyUsd } from '../pricing';
import type { ReaderResult } from '../types';
import { compact, iso, mapLimit, paginate, type ReaderContext, type ReaderRun, runReader } from './common';

export type EcsClients = { ecs: ECSClient };

const CLUSTER_CONCURRENCY = 2;
/** The most ARNs each Describe call takes. */
const DESCRIBE_CLUSTERS_MAX = 100;
const DESCRIBE_SERVICES_MAX = 10;
const DESCRIBE_TASKS_MAX = 100;

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** The last path field of an ECS ARN: the cluster, service or task id (old and new ARN formats alike). */
export const lastName = (arn: string): string => arn.split('/').pop() ?? arn;

export async function readEcs(ctx: ReaderContext<EcsClients>): Promise<ReaderResult> {
  const { clients } = ctx;
  return runReader('ecs', ctx, async (run) => {
    const arns: string[] = [];
    await paginate(
      run,
      'ecs:ListClusters',
      (nextToken) => clients.ecs.send(new ListClustersCommand({ maxResults: 100, nextToken })),
      (page) => page.nextToken,
      (page) => arns.push(...(page.clusterArns ?? [])),
    );
    const clusters: Cluster[] = [];
    for (const batch of chunks(arns, DESCRIBE_CLUSTERS_MAX)) {
      const out = await run.call('ecs:DescribeClusters', () =>
        clients.ecs.send(new DescribeClustersCommand({ clusters: batch })),
      );
      clusters.push(...(out.clusters ?? []).filter((c) => c.clusterArn && c.clusterName));
    }
    await mapLimit(clusters, CLUSTER_CONCURRENCY, (cluster) => readCluster(run, ctx, cluster));
  });
}

async function readCluster(run: ReaderRun, ctx: ReaderContext<EcsClients>, cluster: Cluster): Promise<void> {
  const { region } = ctx;
  const name = cluster.clusterName as string;
  const serviceNames: string[] = [];
  await run.part('services', () => readServices(run, ctx, name, serviceNames));
  await run.part('tasks', () => readTasks(run, ctx, name));
  if (cluster.status === 'INACTIVE') return;
  run.items.push({
    service: 'ecs',
    type: 'cluster',
    id: name,
    arn: cluster.clusterArn,
    region,
    // ECS does not date clusters; attribution relies on the key's CreateCluster calls.
    createdByKey: 'unknown',
    ...ecsClusterCleanup(region, name, serviceNames),
    details: compact({
      status: cluster.status,
      activeServices: cluster.activeServicesCount,
      runningTasks: cluster.runningTasksCount,
      pendingTasks: cluster.pendingTasksCount,
      containerInstances: cluster.registeredContainerInstancesCount,
      capacityProviders: cluster.capacityProviders,
    }),
  });
}

async function readServices(
  run: ReaderRun,
  ctx: ReaderContext<EcsClients>,
  cluster: string,
  serviceNames: string[],
): Promise<void> {
  const { region, clients } = ctx;
  const arns: string[] = [];
  await paginate(
    run,
    'ecs:ListServices',
    (nextToken) => clients.ecs.send(new ListServicesCommand({ cluster, maxResults: 100, nextToken })),
    (page) => page.nextToken,
    (page) => arns.push(...(page.serviceArns ?? [])),
  );
  for (const batch of chunks(arns, DESCRIBE_SERVICES_MAX)) {
    const out = await run.call('ecs:DescribeServices', () =>
      clients.ecs.send(new DescribeServicesCommand({ cluster, services: batch })),
    );
    for (const service of out.services ?? []) {
      const serviceName = service.serviceName;
      if (!serviceName || service.status === 'INACTIVE') continue;
      serviceNames.push(serviceName);
      // Every service is listed, old ones too: UpdateService can scale an owner's service up for mining.
      run.items.push({
        service: 'ecs',
        type: 'ecs-service',
        id: `${cluster}/${serviceName}`,
        arn: service.serviceArn,
        region,
        createdAt: iso(service.createdAt),
        createdByKey: 'unknown',
        ...ecsServiceCleanup(region, cluster, serviceName),
        details: compact({
          cluster,
          serviceName,
          status: service.status,
          launchType: service.launchType,
          capacityProviders: (service.capacityProviderStrategy ?? []).map((s) => s.capacityProvider),
          desiredCount: service.desiredCount,
          runningCount: service.runningCount,
          taskDefinition: service.taskDefinition,
        }),
      });
    }
  }
}

async function readTasks(run: ReaderRun, ctx: ReaderContext<EcsClients>, cluster: string): Promise<void> {
  const { region, clients } = ctx;
  const arns: string[] = [];
  await paginate(
    run,
    'ecs:ListTasks',
    // Running tasks only (the default desired status): stopped ones bill nothing and vanish within the hour.
    (nextToken) =>
      clients.ecs.send(
        new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: 100, nextToken }),
      ),
    (page) => page.nextToken,
    (page) => arns.push(...(page.taskArns ?? [])),
  );
  for (const batch of chunks(arns, DESCRIBE_TASKS_MAX)) {
    const out = await run.call('ecs:DescribeTasks', () =>
      clients.ecs.send(new DescribeTasksCommand({ cluster, tasks: batch })),
    );
    for (const task of out.tasks ?? []) {
      if (!task.taskArn) continue;
      const taskId = lastName(task.taskArn);
      // A service's tasks are in the group `service:<name>`; stopping one only makes the service start another.
      const service = task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined;
      const fargate =
        task.launchType === 'FARGATE' || Boolean(task.capacityProviderName?.startsWith('FARGATE'));
      const price = fargate ? fargateHourlyUsd(task.cpu, task.memory) : undefined;
      run.items.push({
        service: 'ecs',
        type: 'task',
        id: `${cluster}/${taskId}`,
        arn: task.taskArn,
        region,
        createdAt: iso(task.createdAt),
        createdByKey: 'unknown',
        ...(price !== undefined ? { estimatedHourlyUsd: price } : {}),
        ...ecsTaskCleanup(region, cluster, taskId, service),
        details: compact({
          cluster,
          launchType: task.launchType,
          capacityProvider: task.capacityProviderName,
          cpu: task.cpu,
          memory: task.memory,
          lastStatus: task.lastStatus,
          group: task.group,
          startedBy: task.startedBy,
          taskDefinition: task.taskDefinitionArn,
          images: (task.containers ?? []).map((c) => c.image).filter(Boolean),
          containerInstance: task.containerInstanceArn,
          ...(!fargate
            ? { priceBasis: 'EC2 launch type: billed as the container instances (EC2 items)' }
            : {}),
        }),
      });
    }
  }
}
