/**
 * `npm run eval`: scores the analyzer against Panther's labeled CloudTrail test records
 * (../shared/corpus/panther, see its README for what the labels mean).
 *
 * Each record is analyzed on its own (a fresh Analyzer, no key filter), the way one record of a
 * leaked key's activity would be. "Flagged" means the analyzer returned at least one finding for it.
 *
 * - recall: share of `core` positives flagged (Panther's positive is something a leaked-key
 *   investigation must surface). `recall_catalog` counts only findings from the rule catalog, not the
 *   catch-all for unclassified writes.
 * - false_positive_rate: share of `different_action` negatives whose eventName is read-only (the
 *   closest thing to benign controls) that got a finding.
 * - the `_low_or_above` variants count only findings above `info` (what an alert would carry).
 * - attempts and filtered: how many failed or parameter-filtered variants of risky calls are still
 *   reported (informative; flagging them is intended).
 *
 * Targets (issue #5): recall >= 0.95, false positives <= 0.1. Exit code 1 when a target is missed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Analyzer } from '../../lambdas/analyze/analyzer';
import type { CloudTrailRecord, Finding } from '../../lambdas/analyze/types';

const CORPUS_DIR = path.resolve(__dirname, '../../../shared/corpus/panther');
const RECALL_TARGET = 0.95;
const FALSE_POSITIVE_TARGET = 0.1;

/** Read-only by name: the README's definition of the benign controls. */
const READ_ONLY_NAME = /^(Get|List|Describe|Head|Lookup|Search|BatchGet|Scan|Query|Decrypt)/;

interface LabeledRecord {
  rule: string;
  test: string;
  expected: boolean;
  relevance: 'core' | 'context';
  neg_kind: 'different_action' | 'same_action_failed' | 'same_action_filtered' | null;
  event: CloudTrailRecord;
}

interface Scored {
  row: LabeledRecord;
  findings: Finding[];
}

function load(): LabeledRecord[] {
  const file = path.join(CORPUS_DIR, 'panther_events.jsonl');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read the evaluation corpus ${file}: ${(error as Error).message}`);
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as LabeledRecord;
      } catch (error) {
        throw new Error(`${file}:${i + 1}: ${(error as Error).message}`);
      }
    });
}

function score(row: LabeledRecord): Scored {
  const analyzer = new Analyzer();
  analyzer.add(row.event);
  return { row, findings: analyzer.result().findings };
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
const fixed = (value: number) => value.toFixed(3);
const call = (r: LabeledRecord) => `${r.event.eventSource}:${r.event.eventName}`;
const describe = (f: Finding) => `${f.category}/${f.severity}${f.failed ? '/failed' : ''} actor=${f.actor}`;

function main(): void {
  const scored = load().map(score);
  const flagged = (s: Scored) => s.findings.length > 0;
  const flaggedLowOrAbove = (s: Scored) => s.findings.some((f) => f.severity !== 'info');
  const flaggedByCatalog = (s: Scored) => s.findings.some((f) => f.category !== 'other-change');

  const positives = scored.filter((s) => s.row.expected && s.row.relevance === 'core');
  const controls = scored.filter(
    (s) =>
      !s.row.expected && s.row.neg_kind === 'different_action' && READ_ONLY_NAME.test(s.row.event.eventName),
  );
  const attempts = scored.filter(
    (s) => s.row.neg_kind === 'same_action_failed' && s.row.relevance === 'core',
  );
  const filtered = scored.filter(
    (s) => s.row.neg_kind === 'same_action_filtered' && s.row.relevance === 'core',
  );

  const hits = positives.filter(flagged);
  const catalogHits = positives.filter(flaggedByCatalog);
  const awsOnly = hits.filter((s) => s.findings.every((f) => f.actor === 'aws'));
  const falsePositives = controls.filter(flagged);
  const recall = ratio(hits.length, positives.length);
  const falsePositiveRate = ratio(falsePositives.length, controls.length);

  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`eval.records: ${scored.length}`);
  out(`eval.core_positives: ${positives.length}`);
  out(`eval.recall: ${fixed(recall)}`);
  out(`eval.recall_catalog: ${fixed(ratio(catalogHits.length, positives.length))}`);
  out(`eval.positives_attributed_to_aws: ${awsOnly.length}`);
  out(`eval.read_only_controls: ${controls.length}`);
  out(`eval.false_positives: ${falsePositives.length}`);
  out(`eval.false_positive_rate: ${fixed(falsePositiveRate)}`);
  out(
    `eval.recall_low_or_above: ${fixed(ratio(positives.filter(flaggedLowOrAbove).length, positives.length))}`,
  );
  out(
    `eval.false_positive_rate_low_or_above: ${fixed(ratio(controls.filter(flaggedLowOrAbove).length, controls.length))}`,
  );
  out(`eval.failed_attempts_reported: ${attempts.filter(flagged).length}/${attempts.length}`);
  out(`eval.filtered_variants_reported: ${filtered.filter(flagged).length}/${filtered.length}`);

  const misses = positives.filter((s) => !flagged(s));
  if (misses.length > 0) out('\nMissed core positives:');
  for (const { row } of misses) out(`  miss  ${row.rule} | ${row.test} | ${call(row)}`);
  const catalogOnlyMisses = positives.filter((s) => flagged(s) && !flaggedByCatalog(s));
  if (catalogOnlyMisses.length > 0)
    out('\nCore positives found only by the catch-all for unclassified changes:');
  for (const { row } of catalogOnlyMisses) out(`  catch-all  ${row.rule} | ${row.test} | ${call(row)}`);
  if (awsOnly.length > 0) out('\nCore positives attributed to AWS, not to the key:');
  for (const { row, findings } of awsOnly)
    out(`  aws  ${row.rule} | ${row.test} | ${call(row)} | ${describe(findings[0])}`);
  if (falsePositives.length > 0) out('\nFlagged read-only controls:');
  for (const { row, findings } of falsePositives) {
    out(`  fp    ${row.rule} | ${row.test} | ${call(row)} | ${findings.map(describe).join(', ')}`);
  }

  if (recall < RECALL_TARGET || falsePositiveRate > FALSE_POSITIVE_TARGET) {
    out(`\nTarget missed: recall >= ${RECALL_TARGET} and false positives <= ${FALSE_POSITIVE_TARGET}.`);
    process.exitCode = 1;
  }
}

main();
