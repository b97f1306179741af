/**
 * `exposed-key-responder analyze FILE...`: offline triage of a leaked key's CloudTrail activity.
 *
 * Reads LookupEvents output, trail log files (.json / .json.gz, or folders of them) and JSON lines,
 * streaming, and answers in order of danger. Exit codes: 0 clean, 1 some records or files were skipped,
 * 2 usage error or nothing readable.
 */
import { parseArgs } from 'node:util';
import { Analyzer } from '../../lambdas/analyze/analyzer';
import { newProgress, type RecordReadError, readRecordBatches } from '../../lambdas/analyze/read-records';
import type { AnalysisResult, Finding, SeenCount, Summary } from '../../lambdas/analyze/types';

export interface AnalyzeIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

export const ANALYZE_USAGE = `Usage: exposed-key-responder analyze [--key AKIA...] [--format text|json] FILE|FOLDER...

Reads LookupEvents output ({"Events":[...]}), CloudTrail log files ({"Records":[...]}, .json or
.json.gz, folders searched recursively) and JSON lines, and reports what the key was used for,
most dangerous first.

Options:
  --key KEY        Keep only this access key's records (repeatable); keys it minted are followed too
  --format FORMAT  text (default) or json
  -h, --help       Show this text

Exit codes: 0 clean, 1 some records or files were skipped, 2 usage error or nothing readable.
`;

/** Inputs at least this big get a progress line even when stderr is not a terminal. */
const LARGE_INPUT_BYTES = 64 * 1024 * 1024;
const TTY_PROGRESS_MS = 500;
const LOG_PROGRESS_MS = 10_000;
/** Error lines printed; the rest are counted. */
const MAX_ERROR_LINES = 20;
/** Re-reads of the input to follow keys minted after their records had already gone by. */
const MAX_PASSES = 3;
const ACCESS_KEY_ID = /^A[A-Z0-9]{3}[A-Z2-7]{12,124}$/;

export async function runAnalyze(argv: string[], io: AnalyzeIo): Promise<number> {
  let values: { key?: string[]; format?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        key: { type: 'string', multiple: true },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${ANALYZE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(ANALYZE_USAGE);
    return 0;
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    io.stderr.write(`--format must be text or json, not "${format}".\n\n${ANALYZE_USAGE}`);
    return 2;
  }
  if (positionals.length === 0) {
    io.stderr.write(`Give at least one file or folder to analyze.\n\n${ANALYZE_USAGE}`);
    return 2;
  }
  const keys = values.key ?? [];
  const badKey = keys.find((k) => !ACCESS_KEY_ID.test(k));
  if (badKey !== undefined) {
    io.stderr.write(`"${badKey}" is not an access key id (like AKIAIOSFODNN7EXAMPLE).\n`);
    return 2;
  }

  const errors: RecordReadError[] = [];
  const onError = (error: RecordReadError) => {
    errors.push(error);
    if (errors.length <= MAX_ERROR_LINES) io.stderr.write(`${progressClear(io)}error: ${error.message}\n`);
  };
  const started = Date.now();
  let followed: string[] = [];
  let pass = 0;
  let result: AnalysisResult;
  let progress = newProgress();
  for (;;) {
    pass++;
    progress = newProgress();
    const analyzer = new Analyzer({ keys: [...keys, ...followed] });
    const stop = startProgress(io, progress, pass);
    try {
      // Errors are the same on every pass: report them on the first only.
      const read = readRecordBatches(positionals, { onError: pass === 1 ? onError : undefined, progress });
      for await (const batch of read) for (const item of batch) analyzer.add(item.record);
    } finally {
      stop();
    }
    result = analyzer.result();
    const missed = analyzer.pivotsNeedingSecondPass().filter((k) => !followed.includes(k));
    if (missed.length === 0 || pass >= MAX_PASSES) break;
    followed = [...followed, ...missed];
  }
  if (errors.length > MAX_ERROR_LINES) {
    io.stderr.write(`error: ... and ${errors.length - MAX_ERROR_LINES} more\n`);
  }

  const input = {
    paths: positionals,
    filesRead: progress.filesRead,
    records: progress.records,
    skipped: errors.filter((e) => !e.fatal).length,
    damagedFiles: errors.filter((e) => e.fatal).length,
    errors: errors
      .slice(0, 100)
      .map((e) => ({ file: e.file, line: e.line, reason: e.reason, fatal: e.fatal })),
    passes: pass,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  if (format === 'json') {
    io.stdout.write(
      `${JSON.stringify({ findings: result.findings, summary: result.summary, input }, null, 2)}\n`,
    );
  } else {
    io.stdout.write(formatText(result, { ...input, keys, followed }));
  }

  if (progress.records === 0 && errors.length > 0) {
    io.stderr.write('Nothing readable: no CloudTrail record could be read from the input.\n');
    return 2;
  }
  return errors.length > 0 ? 1 : 0;
}

function progressClear(io: AnalyzeIo): string {
  return io.stderr.isTTY ? '\r\x1b[K' : '';
}

/** A progress line on stderr: redrawn on a terminal, a plain line now and then for large logged inputs. */
function startProgress(io: AnalyzeIo, progress: ReturnType<typeof newProgress>, pass: number): () => void {
  const tty = io.stderr.isTTY === true;
  const started = Date.now();
  let shown = false;
  const tick = () => {
    if (!tty && progress.totalBytes < LARGE_INPUT_BYTES) return;
    const seconds = (Date.now() - started) / 1000;
    const percent =
      progress.totalBytes > 0 ? Math.min(100, (100 * progress.bytesRead) / progress.totalBytes) : 0;
    const rate = seconds > 0 ? Math.round(progress.records / seconds) : 0;
    const text =
      `${pass > 1 ? `pass ${pass}: ` : ''}${percent.toFixed(0)}% of ${mb(progress.totalBytes)}, ` +
      `${progress.records.toLocaleString('en-US')} records (${rate.toLocaleString('en-US')}/s)` +
      (progress.errors > 0 ? `, ${progress.errors} errors` : '');
    io.stderr.write(tty ? `\r\x1b[K${text}` : `${text}\n`);
    shown = true;
  };
  const timer = setInterval(tick, tty ? TTY_PROGRESS_MS : LOG_PROGRESS_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (shown && tty) io.stderr.write('\r\x1b[K');
  };
}

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(0)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

// -------------------------------------------------------------------------------------------------
// Text report
// -------------------------------------------------------------------------------------------------

interface TextInput {
  paths: string[];
  filesRead: number;
  records: number;
  skipped: number;
  damagedFiles: number;
  keys: string[];
  followed: string[];
}

const WIDTH = 100;

/** The report for a terminal: the verdict first, then findings grouped by call, then the facts. */
export function formatText(result: AnalysisResult, input: TextInput): string {
  const { summary, findings } = result;
  const lines: string[] = [];
  const push = (line = '') => lines.push(line);

  const scope = input.keys.length > 0 ? ` for ${input.keys.join(', ')}` : '';
  push(
    `Activity${scope}: ${count(summary.records.analyzed)} records analyzed of ${count(input.records)} read`,
  );
  const notes: string[] = [];
  if (summary.records.filteredOut > 0)
    notes.push(`${count(summary.records.filteredOut)} other keys' records left out`);
  if (input.skipped > 0) notes.push(`${count(input.skipped)} bad records skipped`);
  if (input.damagedFiles > 0) notes.push(`${input.damagedFiles} files unreadable or cut short`);
  if (input.followed.length > 0) notes.push(`followed minted keys ${input.followed.join(', ')}`);
  if (notes.length > 0) push(`  (${notes.join('; ')})`);
  if (summary.records.analyzed === 0) {
    push('');
    push(input.keys.length > 0 ? 'No activity of this key in the input.' : 'No records to analyze.');
    return `${lines.join('\n')}\n`;
  }
  if (summary.firstUse) push(`First use ${summary.firstUse}, last use ${summary.lastUse} (${span(summary)})`);
  push(
    `Calls by the key: ${count(summary.records.byActor.attacker)}, failed ${percent(summary.errorRatio)}` +
      (summary.errorCodes.length > 0 ? ` (${summary.errorCodes.slice(0, 4).map(short).join(', ')})` : ''),
  );
  if (summary.rootCalls > 0) push(`ROOT USER: ${count(summary.rootCalls)} calls were made as root.`);
  const others = summary.records.byActor.aws + summary.records.byActor.responder;
  if (others > 0) {
    push(
      `Not the attacker: ${count(summary.records.byActor.aws)} calls by AWS, ` +
        `${count(summary.records.byActor.responder)} by the responder`,
    );
  }

  push('');
  push('Verdict, in order of danger:');
  for (const line of summary.verdict) {
    if (line.answer === 'no' && line.category === 'other-change') continue;
    const answer = line.answer === 'yes' ? 'YES' : line.answer === 'attempted' ? 'tried' : 'no';
    const parts: string[] = [];
    if (line.findings > 0) {
      parts.push(
        `${line.highestSeverity}, ${count(line.findings)} finding${line.findings === 1 ? '' : 's'}` +
          (line.failed > 0 ? ` (${count(line.failed)} failed)` : ''),
      );
    }
    if (line.readCalls) parts.push(`${count(line.readCalls)} read-only calls`);
    const detail = parts.length > 0 ? `  ${parts.join('; ')}` : '';
    push(`  ${answer.padEnd(5)} ${line.question}${detail}`);
  }

  if (findings.length > 0) {
    push('');
    push(`Findings (${count(summary.findings.total)}, grouped by call, most dangerous first):`);
    for (const group of groupFindings(findings)) {
      const f = group.first;
      const times =
        group.firstTime === group.lastTime ? group.firstTime : `${group.firstTime} .. ${group.lastTime}`;
      const who = f.actor === 'attacker' ? '' : ` [by ${f.actor === 'aws' ? 'AWS' : 'the responder'}]`;
      push('');
      push(
        `  ${f.severity.toUpperCase()} ${f.category}  ${service(f.eventSource)}:${f.eventName}` +
          `${group.count > 1 ? ` x${count(group.count)}` : ''}${f.failed ? ' (failed)' : ''}${who}  ${f.technique}`,
      );
      push(
        `    ${[...group.regions].slice(0, 6).join(', ')}${group.regions.size > 6 ? ', ...' : ''}  ${times}`,
      );
      for (const text of wrap(f.why, WIDTH - 4)) push(`    ${text}`);
      if (group.resources.size > 0) {
        const list = [...group.resources];
        const text = `Resources: ${list.slice(0, 8).join(', ')}${list.length > 8 ? `, +${list.length - 8} more` : ''}`;
        for (const [i, part] of wrap(text, WIDTH - 4).entries()) push(`    ${i === 0 ? '' : '    '}${part}`);
      }
      for (const [i, text] of wrap(`Do: ${f.todo}`, WIDTH - 4).entries())
        push(`    ${i === 0 ? '' : '    '}${text}`);
    }
    if (summary.findings.omitted > 0) {
      push(`  ... ${count(summary.findings.omitted)} lower-severity findings not kept (memory cap)`);
    }
  }

  push('');
  table(push, 'Regions', summary.regions);
  table(push, 'Source IPs', summary.sourceIps);
  table(push, 'User agents', summary.userAgents);
  if (summary.accessKeys.length > 1) table(push, 'Access keys', summary.accessKeys);
  if (summary.resourcesCreated.length > 0) {
    push(`Resources created (${summary.resourcesCreated.length}):`);
    for (const r of summary.resourcesCreated.slice(0, 50)) {
      push(
        `  ${r.type} ${r.id}  ${r.region}  ${r.eventName} ${r.eventTime}${r.actor === 'attacker' ? '' : ` [${r.actor}]`}`,
      );
    }
    if (summary.resourcesCreated.length > 50)
      push(`  ... ${summary.resourcesCreated.length - 50} more (--format json)`);
  }
  if (summary.pivotKeys.length > 0) {
    push('Pivot keys (credentials minted with the key: contain and investigate them too):');
    for (const p of summary.pivotKeys) {
      push(`  ${p.accessKeyId}  ${p.kind} via ${p.via} at ${p.eventTime}`);
      const detail = [p.principal ? `for ${p.principal}` : '', p.expiration ? `expires ${p.expiration}` : '']
        .filter(Boolean)
        .join(', ');
      if (detail) push(`      ${detail}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

interface Group {
  first: Finding;
  count: number;
  regions: Set<string>;
  resources: Set<string>;
  firstTime: string;
  lastTime: string;
}

function groupFindings(findings: Finding[]): Group[] {
  const groups = new Map<string, Group>();
  for (const f of findings) {
    const key = [
      f.severity,
      f.category,
      f.eventSource,
      f.eventName.replace(/\d{8}(v\d+)?$/, ''),
      f.actor,
      f.failed,
      f.why,
    ]
      .map(String)
      .join('|');
    const group = groups.get(key);
    if (!group) {
      groups.set(key, {
        first: f,
        count: 1,
        regions: new Set([f.region]),
        resources: new Set(f.resources ?? []),
        firstTime: f.eventTime,
        lastTime: f.eventTime,
      });
      continue;
    }
    group.count++;
    group.regions.add(f.region);
    for (const r of f.resources ?? []) if (group.resources.size < 50) group.resources.add(r);
    if (f.eventTime < group.firstTime) group.firstTime = f.eventTime;
    if (f.eventTime > group.lastTime) group.lastTime = f.eventTime;
  }
  return [...groups.values()];
}

function table(push: (line?: string) => void, title: string, rows: SeenCount[]): void {
  if (rows.length === 0) return;
  push(`${title}:`);
  for (const row of rows.slice(0, 10)) {
    const value = row.value.length > 60 ? `${row.value.slice(0, 57)}...` : row.value;
    push(`  ${value.padEnd(40)} ${count(row.count).padStart(8)}  ${row.firstSeen} .. ${row.lastSeen}`);
  }
  if (rows.length > 10) push(`  ... ${rows.length - 10} more (--format json)`);
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') out.push(line);
  return out;
}

function service(eventSource: string): string {
  return eventSource === '*' ? 'many services' : eventSource.replace('.amazonaws.com', '');
}

function short(row: SeenCount): string {
  return `${row.value} ${count(row.count)}`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.01 ? 1 : 0)}%`;
}

function span(summary: Summary): string {
  const ms = Date.parse(summary.lastUse ?? '') - Date.parse(summary.firstUse ?? '');
  if (Number.isNaN(ms)) return 'unknown span';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.round(hours / 24)} days`;
}
