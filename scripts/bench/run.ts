import { benchAnalyze } from './analyze';
import { benchBundles } from './bundles';
import { benchCollect } from './collect';
import { benchContainment } from './containment';
import { benchInventory } from './inventory';
import { benchReport } from './report';

/**
 * `npm run bench`: prints `name: value` lines. Targets (issue 3): containment p50 under 1 s;
 * every bundle under 500 KB and loading in under 150 ms. Nothing here fails on a slow machine:
 * the figures are for people to read and compare.
 */
async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'bundles') benchBundles();
  if (!only || only === 'containment') await benchContainment();
  if (!only || only === 'collect') await benchCollect();
  if (!only || only === 'inventory') await benchInventory();
  if (!only || only === 'analyze') await benchAnalyze();
  if (!only || only === 'report') await benchReport();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
