/**
 * CodeBuild in one Region: projects created or changed since the exposure. Miners run in CodeBuild builds
 * (large or GPU compute types, privileged mode, an image of their own), started from projects they made.
 */
import {
  BatchGetProjectsCommand,
  type CodeBuildClient,
  ListProjectsCommand,
} from '@aws-sdk/client-codebuild';
import { codebuildProjectCleanup } from '../cleanup';
import type { ReaderResult } from '../types';
import { compact, isNew, iso, paginate, type ReaderContext, runReader } from './common';

export type CodeBuildClients = { codebuild: CodeBuildClient };

/** The most names BatchGetProjects takes. */
const BATCH_MAX = 100;

export async function readCodeBuild(ctx: ReaderContext<CodeBuildClients>): Promise<ReaderResult> {
  const { region, since, clients } = ctx;
  return runReader('codebuild', ctx, async (run) => {
    const names: string[] = [];
    await paginate(
      run,
      'codebuild:ListProjects',
      (nextToken) => clients.codebuild.send(new ListProjectsCommand({ nextToken })),
      (page) => page.nextToken,
      (page) => names.push(...(page.projects ?? [])),
    );
    for (let i = 0; i < names.length; i += BATCH_MAX) {
      const batch = names.slice(i, i + BATCH_MAX);
      const out = await run.call('codebuild:BatchGetProjects', () =>
        clients.codebuild.send(new BatchGetProjectsCommand({ names: batch })),
      );
      for (const project of out.projects ?? []) {
        if (!project.name) continue;
        // UpdateProject can swap an owner's image for a miner's: changed since the exposure counts too.
        if (!isNew(project.created, since) && !isNew(project.lastModified, since)) continue;
        const env = project.environment;
        run.items.push({
          service: 'codebuild',
          type: 'project',
          id: project.name,
          arn: project.arn,
          region,
          createdAt: iso(project.created),
          createdByKey: 'unknown',
          ...codebuildProjectCleanup(region, project.name),
          details: compact({
            lastModified: iso(project.lastModified),
            environmentType: env?.type,
            computeType: env?.computeType,
            image: env?.image,
            privilegedMode: env?.privilegedMode,
            serviceRole: project.serviceRole,
            sourceType: project.source?.type,
            sourceLocation: project.source?.location,
            concurrentBuildLimit: project.concurrentBuildLimit,
          }),
        });
      }
    }
  });
}
