import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TIMELINE_MARKS } from '../../lambdas/analyze/types';
import { snsMessage } from '../../lambdas/report/chatbot';
import { renderHtml } from '../../lambdas/report/html';
import { markOf } from '../../lambdas/report/model';
import { aLargeReportInput, manyFindings } from '../../test/fixtures/report/report-input';
import { runDrill } from '../drill/drill';
import { median, report } from './stats';

/**
 * The report's sizes for the default scenario (the drill, end to end on the emulator), and how long the
 * renderers take and how big they get for a very busy key: the e-mail must stay well under SNS's 256 KB.
 */
export async function benchReport(): Promise<void> {
  const out = mkdtempSync(path.join(tmpdir(), 'ekr-bench-report-'));
  try {
    const drill = await runDrill({ outDir: out });
    const sent = drill.reports[0];
    report('report.default_scenario.html_kb', (drill.report?.sizeBytes ?? 0) / 1024);
    report('report.default_scenario.email_kb', (drill.report?.emailBytes ?? 0) / 1024);
    report('report.default_scenario.subject', sent?.subject ?? '(none)');
    report('report.default_scenario.evidence_objects', drill.report?.evidenceObjects ?? 0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }

  // 100 000 findings and 5 000 timeline marks: the analyzer's cap and the picture's.
  const busy = aLargeReportInput();
  const findings = manyFindings(100_000);
  busy.analysis = { findings, summary: busy.analysis?.summary ?? ({} as never) };
  busy.timelineEvents = findings.slice(0, TIMELINE_MARKS).map(markOf);
  const htmlMs: number[] = [];
  const snsMs: number[] = [];
  let html = '';
  let message = '';
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    html = renderHtml(busy);
    htmlMs.push(performance.now() - t);
    t = performance.now();
    message = snsMessage(busy).Message;
    snsMs.push(performance.now() - t);
  }
  report('report.busy_key.html_kb', Buffer.byteLength(html) / 1024);
  report('report.busy_key.html_render_ms', median(htmlMs));
  report('report.busy_key.sns_message_kb', Buffer.byteLength(message) / 1024);
  report('report.busy_key.sns_render_ms', median(snsMs));
}
