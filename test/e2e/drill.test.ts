import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CLI = path.join(__dirname, '../../bin/exposed-key-responder.js');

function drill(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, 'drill', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the drill CLI', () => {
  it('contains the victim key, leaves the second key alone and reports it as JSON', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ekr-drill-out-'));
    const run = drill('--json', '--out', out);

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.incidentId).toMatch(/^\d{8}-[0-9a-f]{12}$/);
    expect(report.keys).toEqual([
      expect.objectContaining({
        role: 'victim',
        statusBefore: 'Active',
        statusAfter: 'Inactive',
        decision: 'contained',
      }),
      expect.objectContaining({
        role: 'second',
        statusBefore: 'Active',
        statusAfter: 'Active',
        decision: null,
        actions: [],
      }),
    ]);
    expect(report.keys[0].actions.map((a: { action: string }) => a.action)).toEqual([
      'iam:UpdateAccessKey',
      'iam:PutUserPolicy',
    ]);
    expect(report.alerts).toHaveLength(1);
    expect(report.alerts[0].subject).toContain('[CONTAINED]');
    expect(report.reports).toHaveLength(1);
    expect(report.reports[0].subject).toMatch(/^\[CRITICAL\]\[CONTAINED\] Report: /);
    expect(report.report).toEqual(
      expect.objectContaining({
        path: path.join(out, 'report.html'),
        emailPath: path.join(out, 'email.txt'),
      }),
    );
    expect(report.report.sizeBytes).toBe(statSync(report.report.path).size);
    expect(readFileSync(report.report.path, 'utf8')).toMatch(/^<!doctype html>/i);
    expect(report.timings.containmentMs).toBeGreaterThan(0);
  }, 120_000);

  it('sends an event file through the same path, with the placeholders filled in', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ekr-drill-'));
    const file = path.join(dir, 'event.yaml');
    writeFileSync(
      file,
      [
        'version: "0"',
        'id: drill-file-event',
        'detail-type: AWS Health Event',
        'source: exposed-key-responder.drill',
        'account: "{{ACCOUNT_ID}}"',
        'time: "2026-11-24T00:00:00Z"',
        'region: us-east-1',
        'resources: []',
        'detail:',
        '  eventTypeCode: AWS_RISK_CREDENTIALS_EXPOSED',
        '  communicationId: drill-file',
        '  startTime: Tue, 24 Nov 2026 00:00:00 GMT',
        '  affectedAccount: "{{ACCOUNT_ID}}"',
        '  affectedEntities:',
        '    - entityValue: "{{SECOND_KEY}}"',
      ].join('\n'),
    );

    const run = drill('--json', '--event-file', file);

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.keys.map((k: { role: string; statusAfter: string }) => [k.role, k.statusAfter])).toEqual([
      ['victim', 'Active'],
      ['second', 'Inactive'],
    ]);
    expect(report.alerts[0].subject).toContain('[DRILL CONTAINED]');
  }, 120_000);

  it('explains an unreadable event file instead of crashing', () => {
    const run = drill('--event-file', '/nonexistent/event.json');

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Cannot read the event file /nonexistent/event.json');
  }, 120_000);
});
