import { BatchGetProjectsCommand, CodeBuildClient, ListProjectsCommand } from '@aws-sdk/client-codebuild';
import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListServicesCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { GetDetectorCommand, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeTrainingJobCommand,
  ListEndpointsCommand,
  ListNotebookInstancesCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { attribute, buildEvidenceIndex, type TrailRecord } from '../../lambdas/inventory/attribution';
import { INVENTORY_SERVICES, inventoryRegion, NOT_YET_READ } from '../../lambdas/inventory/inventory-region';
import { fargateHourlyUsd } from '../../lambdas/inventory/pricing';
import { readCodeBuild } from '../../lambdas/inventory/readers/codebuild';
import type { ReaderContext } from '../../lambdas/inventory/readers/common';
import { readEcs } from '../../lambdas/inventory/readers/ecs';
import { readGuardDuty } from '../../lambdas/inventory/readers/guardduty';
import { readSageMaker } from '../../lambdas/inventory/readers/sagemaker';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const SINCE = new Date('2026-11-20T00:00:00Z');
const NEW = new Date('2026-11-21T08:00:00Z');
const OLD = new Date('2025-03-01T08:00:00Z');
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

const awsError = (name: string, httpStatusCode = 400) =>
  Object.assign(new Error(`${name} from the test`), { name, $metadata: { httpStatusCode } });

const sleeps: number[] = [];
function ctx<C>(clients: C): ReaderContext<C> {
  return {
    region: REGION,
    accountId: ACCOUNT,
    since: SINCE,
    clients,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  };
}

beforeEach(() => {
  sleeps.length = 0;
});

const sagemakerClient = new SageMakerClient({ region: REGION, credentials });
const ecsClient = new ECSClient({ region: REGION, credentials });
const codebuildClient = new CodeBuildClient({ region: REGION, credentials });
const guarddutyClient = new GuardDutyClient({ region: REGION, credentials });
const sagemaker = mockClient(sagemakerClient);
const ecs = mockClient(ecsClient);
const codebuild = mockClient(codebuildClient);
const guardduty = mockClient(guarddutyClient);

beforeEach(() => {
  sagemaker.reset();
  ecs.reset();
  codebuild.reset();
  guardduty.reset();
});

function quietSageMaker() {
  sagemaker.on(ListNotebookInstancesCommand).resolves({});
  sagemaker.on(ListTrainingJobsCommand).resolves({});
  sagemaker.on(ListEndpointsCommand).resolves({});
}

describe('SageMaker reader', () => {
  it('pages notebooks, keeps running ones and new ones, prices ml.* types', async () => {
    quietSageMaker();
    sagemaker
      .on(ListNotebookInstancesCommand)
      .resolvesOnce({
        NotebookInstances: [
          {
            NotebookInstanceName: 'miner',
            NotebookInstanceArn: 'arn:nb/miner',
            NotebookInstanceStatus: 'InService',
            InstanceType: 'ml.g5.xlarge',
            CreationTime: NEW,
          },
        ],
        NextToken: 'p2',
      })
      .resolvesOnce({
        NotebookInstances: [
          {
            NotebookInstanceName: 'old-stopped',
            NotebookInstanceArn: 'arn:a',
            NotebookInstanceStatus: 'Stopped',
            InstanceType: 'ml.t3.medium',
            CreationTime: OLD,
            LastModifiedTime: OLD,
          },
          {
            NotebookInstanceName: 'old-running',
            NotebookInstanceArn: 'arn:b',
            NotebookInstanceStatus: 'InService',
            InstanceType: 'ml.x9.huge' as never,
            CreationTime: OLD,
            LastModifiedTime: OLD,
          },
        ],
      });

    const result = await readSageMaker(ctx({ sagemaker: sagemakerClient }));

    expect(result.complete).toBe(true);
    expect(sagemaker).toHaveReceivedCommandWith(ListNotebookInstancesCommand, { NextToken: 'p2' });
    expect(result.items.map((i) => i.id)).toEqual(['miner', 'old-running']);
    const [miner, oldRunning] = result.items;
    expect(miner).toMatchObject({
      service: 'sagemaker',
      type: 'notebook-instance',
      createdByKey: 'unknown',
      estimatedHourlyUsd: 1.408,
      createdAt: NEW.toISOString(),
    });
    expect(miner.cleanup).toContain('aws sagemaker stop-notebook-instance --region eu-west-1');
    expect(miner.cleanup).toContain('delete-notebook-instance');
    expect(miner.consoleUrl).toContain('sagemaker/home?region=eu-west-1');
    expect(oldRunning.estimatedHourlyUsd).toBeUndefined();
    expect(oldRunning.details?.priceBasis).toContain('ml.x9.huge');
  });

  it('lists training jobs created since the exposure and sizes the running ones', async () => {
    quietSageMaker();
    sagemaker.on(ListTrainingJobsCommand).resolves({
      TrainingJobSummaries: [
        { TrainingJobName: 'run', TrainingJobStatus: 'InProgress', CreationTime: NEW, TrainingJobArn: 'a' },
        { TrainingJobName: 'done', TrainingJobStatus: 'Completed', CreationTime: NEW, TrainingJobArn: 'b' },
      ],
    });
    sagemaker.on(DescribeTrainingJobCommand).resolves({
      ResourceConfig: { InstanceType: 'ml.p3.2xlarge', InstanceCount: 2, VolumeSizeInGB: 10 },
    } as never);

    const result = await readSageMaker(ctx({ sagemaker: sagemakerClient }));

    expect(sagemaker).toHaveReceivedCommandWith(ListTrainingJobsCommand, { CreationTimeAfter: SINCE });
    expect(sagemaker).toHaveReceivedCommandTimes(DescribeTrainingJobCommand, 1);
    const [run, done] = result.items;
    expect(run).toMatchObject({ id: 'run', type: 'training-job', estimatedHourlyUsd: 7.65 });
    expect(run.cleanup).toBe('aws sagemaker stop-training-job --region eu-west-1 --training-job-name run');
    expect(done.cleanup).toBe('# nothing to remove');
    expect(done.estimatedHourlyUsd).toBeUndefined();
  });

  it('lists new or updated endpoints with their config instance types', async () => {
    quietSageMaker();
    sagemaker.on(ListEndpointsCommand).resolves({
      Endpoints: [
        {
          EndpointName: 'ep',
          EndpointStatus: 'InService',
          CreationTime: NEW,
          LastModifiedTime: NEW,
          EndpointArn: 'x',
        },
        {
          EndpointName: 'old',
          EndpointStatus: 'InService',
          CreationTime: OLD,
          LastModifiedTime: OLD,
          EndpointArn: 'y',
        },
      ],
    });
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointConfigName: 'cfg' } as never);
    sagemaker.on(DescribeEndpointConfigCommand).resolves({
      ProductionVariants: [{ VariantName: 'v', InstanceType: 'ml.g4dn.xlarge', InitialInstanceCount: 1 }],
    } as never);

    const result = await readSageMaker(ctx({ sagemaker: sagemakerClient }));

    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({ id: 'ep', type: 'endpoint', estimatedHourlyUsd: 0.7364 });
    expect(result.items[0].cleanup).toBe(
      'aws sagemaker delete-endpoint --region eu-west-1 --endpoint-name ep',
    );
  });

  it('records a refused part as incomplete and still reads the others', async () => {
    quietSageMaker();
    sagemaker.on(ListNotebookInstancesCommand).rejects(awsError('AccessDeniedException', 403));
    sagemaker.on(ListEndpointsCommand).resolves({
      Endpoints: [
        {
          EndpointName: 'ep',
          EndpointArn: 'x',
          EndpointStatus: 'InService',
          CreationTime: NEW,
          LastModifiedTime: NEW,
        },
      ],
    });
    sagemaker.on(DescribeEndpointCommand).rejects(awsError('AccessDeniedException', 403));

    const result = await readSageMaker(ctx({ sagemaker: sagemakerClient }));

    expect(result.complete).toBe(false);
    expect(result.error).toContain(
      'notebook instances: sagemaker:ListNotebookInstances: AccessDeniedException',
    );
    expect(result.error).toContain('sagemaker:DescribeEndpoint: AccessDeniedException');
    expect(result.items.map((i) => i.id)).toEqual(['ep']);
  });

  it('retries throttling', async () => {
    quietSageMaker();
    sagemaker
      .on(ListNotebookInstancesCommand)
      .rejectsOnce(awsError('ThrottlingException'))
      .resolves({ NotebookInstances: [] });

    const result = await readSageMaker(ctx({ sagemaker: sagemakerClient }));

    expect(result.complete).toBe(true);
    expect(sleeps).toHaveLength(1);
  });
});

describe('ECS reader', () => {
  const clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/mine`;
  it('pages clusters, reads services and running tasks, prices Fargate', async () => {
    ecs
      .on(ListClustersCommand)
      .resolvesOnce({ clusterArns: [clusterArn], nextToken: 't' })
      .resolvesOnce({ clusterArns: [] });
    ecs.on(DescribeClustersCommand).resolves({
      clusters: [{ clusterArn, clusterName: 'mine', status: 'ACTIVE', runningTasksCount: 2 }],
    });
    ecs
      .on(ListServicesCommand)
      .resolves({ serviceArns: [`arn:aws:ecs:${REGION}:${ACCOUNT}:service/mine/svc`] });
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        { serviceName: 'svc', status: 'ACTIVE', createdAt: NEW, launchType: 'FARGATE', desiredCount: 50 },
      ],
    });
    ecs.on(ListTasksCommand).resolves({ taskArns: [`arn:aws:ecs:${REGION}:${ACCOUNT}:task/mine/abc`] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/mine/abc`,
          createdAt: NEW,
          launchType: 'FARGATE',
          cpu: '4096',
          memory: '8192',
          group: 'service:svc',
        },
      ],
    });

    const result = await readEcs(ctx({ ecs: ecsClient }));

    expect(result.complete).toBe(true);
    expect(ecs).toHaveReceivedCommandWith(ListClustersCommand, { nextToken: 't' });
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, { cluster: 'mine', desiredStatus: 'RUNNING' });
    const byType = Object.fromEntries(result.items.map((i) => [i.type, i]));
    expect(byType['ecs-service']).toMatchObject({
      id: 'mine/svc',
      createdAt: NEW.toISOString(),
      details: expect.objectContaining({ desiredCount: 50, launchType: 'FARGATE' }),
    });
    expect(byType['ecs-service'].cleanup).toBe(
      'aws ecs delete-service --region eu-west-1 --cluster mine --service svc --force',
    );
    expect(byType.task).toMatchObject({
      id: 'mine/abc',
      estimatedHourlyUsd: fargateHourlyUsd('4096', '8192'),
    });
    expect(byType.task.cleanup).toContain('delete-service');
    expect(byType.task.cleanup).toContain('aws ecs stop-task --region eu-west-1 --cluster mine --task abc');
    expect(byType.cluster).toMatchObject({ id: 'mine', createdByKey: 'unknown' });
    expect(byType.cluster.createdAt).toBeUndefined();
    expect(byType.cluster.cleanup).toMatch(
      /delete-service .* && aws ecs delete-cluster --region eu-west-1 --cluster mine$/,
    );
  });

  it('keeps the cluster when its tasks are refused, and says so', async () => {
    ecs.on(ListClustersCommand).resolves({ clusterArns: [clusterArn] });
    ecs
      .on(DescribeClustersCommand)
      .resolves({ clusters: [{ clusterArn, clusterName: 'mine', status: 'ACTIVE' }] });
    ecs.on(ListServicesCommand).resolves({ serviceArns: [] });
    ecs.on(ListTasksCommand).rejects(awsError('AccessDeniedException', 403));

    const result = await readEcs(ctx({ ecs: ecsClient }));

    expect(result.complete).toBe(false);
    expect(result.error).toContain('tasks: ecs:ListTasks: AccessDeniedException');
    expect(result.items.map((i) => i.type)).toEqual(['cluster']);
  });

  it('records a refused ListClusters as incomplete', async () => {
    ecs.on(ListClustersCommand).rejects(awsError('AccessDeniedException', 403));
    const result = await readEcs(ctx({ ecs: ecsClient }));
    expect(result).toMatchObject({ complete: false, items: [] });
    expect(result.error).toContain('ecs:ListClusters');
  });

  it('prices Fargate from cpu units and MiB', () => {
    expect(fargateHourlyUsd('1024', '2048')).toBe(0.0494);
    expect(fargateHourlyUsd(undefined, '2048')).toBeUndefined();
  });
});

describe('CodeBuild reader', () => {
  it('pages project names, batches them, keeps new or changed projects', async () => {
    codebuild
      .on(ListProjectsCommand)
      .resolvesOnce({ projects: ['new', 'old'], nextToken: 'n' })
      .resolvesOnce({ projects: ['changed'] });
    codebuild.on(BatchGetProjectsCommand).resolves({
      projects: [
        {
          name: 'new',
          arn: 'arn:p/new',
          created: NEW,
          lastModified: NEW,
          environment: {
            type: 'LINUX_GPU_CONTAINER',
            computeType: 'BUILD_GENERAL1_LARGE',
            image: 'evil/miner',
            privilegedMode: true,
          },
        },
        { name: 'old', created: OLD, lastModified: OLD },
        { name: 'changed', created: OLD, lastModified: NEW },
      ] as never,
    });

    const result = await readCodeBuild(ctx({ codebuild: codebuildClient }));

    expect(result.complete).toBe(true);
    expect(codebuild).toHaveReceivedCommandWith(ListProjectsCommand, { nextToken: 'n' });
    expect(codebuild).toHaveReceivedCommandWith(BatchGetProjectsCommand, {
      names: ['new', 'old', 'changed'],
    });
    expect(result.items.map((i) => i.id)).toEqual(['new', 'changed']);
    expect(result.items[0]).toMatchObject({
      service: 'codebuild',
      type: 'project',
      details: expect.objectContaining({ computeType: 'BUILD_GENERAL1_LARGE', image: 'evil/miner' }),
    });
    expect(result.items[0].cleanup).toBe('aws codebuild delete-project --region eu-west-1 --name new');
  });

  it('records a refusal as incomplete', async () => {
    codebuild.on(ListProjectsCommand).resolves({ projects: ['a'] });
    codebuild.on(BatchGetProjectsCommand).rejects(awsError('AccessDeniedException', 403));
    const result = await readCodeBuild(ctx({ codebuild: codebuildClient }));
    expect(result.complete).toBe(false);
    expect(result.error).toContain('codebuild:BatchGetProjects: AccessDeniedException');
  });
});

describe('GuardDuty guard rail', () => {
  it('reads each detector as a guard rail; a disabled one gets the line that enables it', async () => {
    guardduty
      .on(ListDetectorsCommand)
      .resolvesOnce({ DetectorIds: ['on'], NextToken: 'x' })
      .resolvesOnce({ DetectorIds: ['off'] });
    guardduty
      .on(GetDetectorCommand, { DetectorId: 'on' })
      .resolves({ Status: 'ENABLED', ServiceRole: 'r', CreatedAt: OLD.toISOString() });
    guardduty
      .on(GetDetectorCommand, { DetectorId: 'off' })
      .resolves({ Status: 'DISABLED', ServiceRole: 'r', CreatedAt: OLD.toISOString() });

    const result = await readGuardDuty(ctx({ guardduty: guarddutyClient }));

    expect(result.complete).toBe(true);
    const [on, off] = result.items;
    expect(on).toMatchObject({
      type: 'guard-rail',
      id: 'on',
      details: expect.objectContaining({ status: 'ok' }),
    });
    expect(on.cleanup).toBe('# nothing to remove');
    expect(off.details).toMatchObject({ kind: 'detector', status: 'off' });
    expect(off.cleanup).toBe('aws guardduty update-detector --region eu-west-1 --detector-id off --enable');

    // Attribution: healthy is context (false), disabled without evidence is unknown, with evidence the key's.
    const none = attribute(result.items, buildEvidenceIndex([]), SINCE);
    expect(Object.fromEntries(none.map((i) => [i.id, i.createdByKey]))).toEqual({
      on: false,
      off: 'unknown',
    });
    const index = buildEvidenceIndex([
      {
        eventID: 'e1',
        eventName: 'UpdateDetector',
        eventSource: 'guardduty.amazonaws.com',
        eventTime: NEW.toISOString(),
        awsRegion: REGION,
        userIdentity: { accessKeyId: 'AKIA' },
        requestParameters: { detectorId: 'off', enable: false },
      },
    ]);
    const withEvidence = attribute(result.items, index, SINCE);
    expect(withEvidence.find((i) => i.id === 'off')).toMatchObject({
      createdByKey: true,
      evidenceEventId: 'e1',
    });
    expect(withEvidence).toHaveLength(2);
  });

  it('yields nothing for a Region without a detector, as the trail reader does', async () => {
    guardduty.on(ListDetectorsCommand).resolves({ DetectorIds: [] });
    const result = await readGuardDuty(ctx({ guardduty: guarddutyClient }));
    expect(result).toMatchObject({ complete: true, items: [] });
  });

  it('keeps a detector it could not read as unread (never ok) and records the refusal', async () => {
    guardduty.on(ListDetectorsCommand).resolves({ DetectorIds: ['d'] });
    guardduty.on(GetDetectorCommand).rejects(awsError('AccessDeniedException', 403));
    const result = await readGuardDuty(ctx({ guardduty: guarddutyClient }));
    expect(result.complete).toBe(false);
    expect(result.items[0].details?.status).toBe('unread');
    expect(attribute(result.items, buildEvidenceIndex([]), SINCE)[0].createdByKey).toBe('unknown');
  });
});

describe('attribution of the new services', () => {
  const rec = (
    eventSource: string,
    eventName: string,
    q: Record<string, unknown>,
    s: Record<string, unknown> = {},
  ): TrailRecord => ({
    eventID: `${eventName}-id`,
    eventName,
    eventSource: `${eventSource}.amazonaws.com`,
    eventTime: NEW.toISOString(),
    awsRegion: REGION,
    userIdentity: { accessKeyId: 'AKIA' },
    requestParameters: q,
    responseElements: s,
  });
  it('indexes the creating calls under the ids the readers use', () => {
    const index = buildEvidenceIndex([
      rec('sagemaker', 'CreateNotebookInstance', { notebookInstanceName: 'nb' }),
      rec('sagemaker', 'CreateTrainingJob', { trainingJobName: 'tj' }),
      rec('sagemaker', 'CreateEndpoint', { endpointName: 'ep' }),
      rec('ecs', 'CreateCluster', { clusterName: 'c' }, { cluster: { clusterName: 'c' } }),
      rec('ecs', 'CreateService', {
        cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/c`,
        serviceName: 's',
      }),
      rec(
        'ecs',
        'RunTask',
        { cluster: 'c' },
        { tasks: [{ taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/c/t1` }] },
      ),
      rec('codebuild', 'CreateProject', { name: 'p' }),
    ]);
    const keys = [...index.resources.keys()].sort();
    expect(keys).toEqual(
      [
        `codebuild/project/${REGION}/p`,
        `ecs/cluster/${REGION}/c`,
        `ecs/ecs-service/${REGION}/c/s`,
        `ecs/task/${REGION}/c/t1`,
        `sagemaker/endpoint/${REGION}/ep`,
        `sagemaker/notebook-instance/${REGION}/nb`,
        `sagemaker/training-job/${REGION}/tj`,
      ].sort(),
    );
    expect(index.indexed).toBe(7);
  });
});

describe('inventoryRegion with the new readers', () => {
  it('runs them and leaves nothing unread', async () => {
    quietSageMaker();
    ecs.on(ListClustersCommand).resolves({ clusterArns: [] });
    codebuild.on(ListProjectsCommand).resolves({ projects: [] });
    guardduty.on(ListDetectorsCommand).resolves({ DetectorIds: ['d'] });
    guardduty.on(GetDetectorCommand).resolves({ Status: 'ENABLED', ServiceRole: 'r' });

    expect(NOT_YET_READ).toEqual([]);
    expect(INVENTORY_SERVICES).toEqual(
      expect.arrayContaining(['guardduty', 'sagemaker', 'ecs', 'codebuild']),
    );
    const results = await inventoryRegion(REGION, ['guardduty', 'sagemaker', 'ecs', 'codebuild'], {
      accountId: ACCOUNT,
      since: SINCE,
      clientsFor: () => ({
        guardduty: guarddutyClient,
        sagemaker: sagemakerClient,
        ecs: ecsClient,
        codebuild: codebuildClient,
      }),
    });
    expect(results.map((r) => [r.service, r.complete, r.items.length])).toEqual([
      ['guardduty', true, 1],
      ['sagemaker', true, 0],
      ['ecs', true, 0],
      ['codebuild', true, 0],
    ]);
  });
});
