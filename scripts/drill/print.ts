import type { StateStep } from '../local/local-responder';
import type { DrillReport } from './drill';

const STEP_TEXT: Partial<Record<StateStep['type'], string>> = {
  StateEntered: '->',
  StateExited: 'ok',
  StateFailed: '!!',
  StateRetried: 're',
  StateCaught: '=>',
};

/** One line per state as it runs, for people watching the drill. */
export function formatStep(step: StateStep, startedAt: number): string | undefined {
  const mark = STEP_TEXT[step.type];
  if (!mark || !step.state) return undefined;
  const ms = String(step.at - startedAt).padStart(5);
  const problem = step.error ? `  ${step.error}` : '';
  return `  ${ms} ms  ${mark} ${step.state}${problem}`;
}

export function formatReport(report: DrillReport): string {
  const lines: string[] = [''];
  if (!report.started) {
    lines.push('No rule of the stack matched the event: the workflow did not start (nothing was changed).');
  } else {
    lines.push(
      `Workflow ${report.execution.status}${report.execution.error ? ` (${report.execution.error})` : ''}; incident ${report.incidentId ?? 'none'}`,
    );
  }
  lines.push('');
  lines.push('Keys:');
  for (const key of report.keys) {
    lines.push(
      `  ${key.role.padEnd(6)} ${key.accessKeyId}  ${key.userName}  ${key.statusBefore} -> ${key.statusAfter}  decision: ${key.decision ?? '(not named by the event)'}`,
    );
    for (const action of key.actions) {
      lines.push(
        `           ${action.at}  ${action.action}  ${action.planned ? 'planned' : action.ok ? 'ok' : `FAILED ${action.error}`}`,
      );
    }
  }
  lines.push('');
  if (report.timings.containmentMs !== null)
    lines.push(
      `Containment latency: ${report.timings.containmentMs} ms from the event to the key being inactive.`,
    );
  if (report.timings.workflowMs !== null) lines.push(`Whole workflow: ${report.timings.workflowMs} ms.`);
  if (report.scenario) {
    lines.push('');
    lines.push(
      `Attacker scenario "${report.scenario.name}": ${report.scenario.steps} steps before the leak was reported (${report.scenario.failedSteps} denied or failed).`,
    );
  }
  if (report.activity) {
    lines.push('');
    lines.push(
      `Activity collected: ${report.activity.events} CloudTrail events (evidence: ${report.activity.manifestKey}).`,
    );
    for (const r of report.activity.regions.filter((region) => region.events > 0 || !region.complete)) {
      lines.push(
        `  ${r.region.padEnd(16)} ${String(r.events).padStart(5)} events${r.complete ? '' : '  INCOMPLETE'}`,
      );
    }
    const quiet = report.activity.regions.filter((r) => r.events === 0 && r.complete).length;
    if (quiet) lines.push(`  (${quiet} other regions searched: no events)`);
    if (report.activity.pivotKeys.length)
      lines.push(`  Keys the attacker minted, followed too: ${report.activity.pivotKeys.join(', ')}`);
    for (const role of report.activity.rolesAssumed)
      lines.push(`  Role assumed: ${role.roleArn} with ${role.assumedWith}`);
  }
  if (report.analysis) {
    lines.push('');
    const sev = Object.entries(report.analysis.bySeverity)
      .filter(([, n]) => n > 0)
      .map(([severity, n]) => `${n} ${severity}`)
      .join(', ');
    lines.push(`What the attacker did (${report.analysis.findings} findings${sev ? `: ${sev}` : ''}):`);
    for (const line of report.analysis.verdict.filter((v) => v.answer !== 'no')) {
      lines.push(
        `  ${line.answer === 'yes' ? 'YES      ' : 'ATTEMPTED'}  ${line.question}${line.highestSeverity ? ` (${line.highestSeverity})` : ''}`,
      );
    }
  }
  if (report.inventory) {
    lines.push('');
    const theirs = report.inventory.filter((i) => i.createdByKey === true);
    const cost = report.inventory.reduce((sum, i) => sum + (i.estimatedHourlyUsd ?? 0), 0);
    lines.push(
      `Left behind: ${theirs.length} resources made by the key, ${report.inventory.length - theirs.length} of unknown origin; compute ~$${cost.toFixed(2)}/hour.`,
    );
    for (const item of report.inventory.slice(0, 15)) {
      const price = item.estimatedHourlyUsd ? ` $${item.estimatedHourlyUsd}/h` : '';
      lines.push(
        `  ${item.createdByKey === true ? 'KEY    ' : 'UNKNOWN'}  ${item.region.padEnd(14)} ${item.type} ${item.id}${price}`,
      );
      lines.push(`           ${item.cleanup}`);
    }
  }
  lines.push('');
  lines.push(`Alerts published: ${report.alerts.length}`);
  for (const alert of report.alerts) {
    lines.push('');
    lines.push(`Subject: ${alert.subject}`);
    lines.push('-'.repeat(Math.min(100, alert.subject.length + 9)));
    lines.push(alert.message);
  }
  lines.push('');
  if (report.report) {
    lines.push(
      `Full report sent (${report.reports.length} message): ${report.reports[0]?.subject ?? '(not read back)'}`,
    );
    lines.push(`HTML report: ${report.report.path} (${Math.round(report.report.sizeBytes / 1024)} KB)`);
    if (report.report.emailPath) {
      lines.push(
        `E-mail text: ${report.report.emailPath} (${Math.round((report.report.emailBytes ?? 0) / 1024)} KB)`,
      );
    }
    if (report.report.screenshot) lines.push(`Screenshot: ${report.report.screenshot}`);
    if (report.report.missing.length)
      lines.push(`The report says these parts are missing: ${report.report.missing.join(', ')}`);
  } else {
    lines.push('No full report was sent (see the execution above).');
  }
  return lines.join('\n');
}
