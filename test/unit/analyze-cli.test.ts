import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Finding, Summary } from '../../lambdas/analyze/types';
import { type AnalyzeIo, runAnalyze } from '../../scripts/cli/analyze';
import { main } from '../../scripts/cli/main';
import { LEAKED_KEY, MINTED_KEY, record, SESSION_KEY } from '../fixtures/cloudtrail/scenario';

const FIXTURES = path.resolve(__dirname, '../fixtures/cloudtrail');
const LOOKUP = path.join(FIXTURES, 'lookup-events.json');
const DAMAGED = path.join(FIXTURES, 'damaged.jsonl');
const TRAIL = path.join(FIXTURES, 'trail-file.json');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], tty = false): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: AnalyzeIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: tty },
  };
  const code = await runAnalyze(args, io);
  return { code, stdout, stderr };
}

interface JsonOutput {
  findings: Finding[];
  summary: Summary;
  input: { records: number; skipped: number; damagedFiles: number; errors: { file: string; line: number }[] };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'analyze-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('exposed-key-responder analyze', () => {
  it('answers in text, most dangerous first, with the facts after', async () => {
    const { code, stdout, stderr } = await run([LOOKUP]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const verdict = stdout.indexOf('Verdict, in order of danger:');
    expect(verdict).toBeGreaterThan(0);
    expect(stdout).toMatch(/YES +Made a way back in .* critical, 2 findings \(1 failed\)/);
    expect(stdout).toMatch(/tried Gave themselves more permissions/);
    expect(stdout).toMatch(/no +Abused SES or SMS/);
    // Findings: critical before low, AWS's and the responder's own actions labeled as theirs.
    expect(stdout.indexOf('CRITICAL persistence  iam:CreateAccessKey')).toBeGreaterThan(verdict);
    expect(stdout.indexOf('CRITICAL')).toBeLessThan(stdout.indexOf('LOW reconnaissance'));
    expect(stdout).toMatch(/LOW reconnaissance {2}ses:GetSendQuota x3/);
    expect(stdout).toMatch(/INFO containment {2}iam:AttachUserPolicy \[by AWS\]/);
    expect(stdout).toMatch(/INFO containment {2}iam:UpdateAccessKey \[by the responder\]/);
    expect(stdout).toMatch(/Pivot keys[^\n]*\n {2}AKIA2EXAMPLEMINTED45 {2}access-key via CreateAccessKey/);
    expect(stdout).toMatch(/ec2:instance i-0aaaaaaaaaaaaaaa1 {2}eu-north-1/);
    expect(stdout).toMatch(/203\.0\.113\.66 +28 {2}2025-02-12T00:34:32Z \.\. 2025-02-12T00:46:00Z/);
    expect(Math.max(...stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(110);
  });

  it('prints findings and summary as JSON with the contract fields', async () => {
    const { code, stdout } = await run(['--format', 'json', LOOKUP]);
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as JsonOutput;
    for (const finding of output.findings) {
      expect(Object.keys(finding)).toEqual(
        expect.arrayContaining([
          'eventId',
          'eventTime',
          'region',
          'eventSource',
          'eventName',
          'category',
          'severity',
          'technique',
          'actor',
          'failed',
          'why',
          'todo',
        ]),
      );
    }
    expect(output.findings[0]).toMatchObject({
      eventName: 'CreateAccessKey',
      severity: 'critical',
      actor: 'attacker',
    });
    expect(output.summary.pivotKeys.map((p) => p.accessKeyId)).toEqual([MINTED_KEY, SESSION_KEY]);
    expect(output.input).toMatchObject({ records: 30, skipped: 0, damagedFiles: 0 });
  });

  it("keeps one key's records with --key, with the session key it minted", async () => {
    const { code, stdout } = await run(['--key', LEAKED_KEY, '--format', 'json', LOOKUP]);
    expect(code).toBe(0);
    const { summary } = JSON.parse(stdout) as JsonOutput;
    expect(summary.records).toMatchObject({ seen: 30, analyzed: 28, filteredOut: 2 });
    expect(summary.accessKeys.map((k) => k.value)).toEqual([LEAKED_KEY, SESSION_KEY]);
    expect(summary.records.byActor).toEqual({ attacker: 28, aws: 0, responder: 0 });
  });

  it('reads the input again to follow a key minted after its first use in reading order', async () => {
    const used = record('iam.amazonaws.com', 'CreateUser', {
      eventTime: '2025-02-12T01:00:00Z',
      userIdentity: { type: 'IAMUser', accessKeyId: SESSION_KEY },
    });
    const minted = record('sts.amazonaws.com', 'GetSessionToken', {
      eventTime: '2025-02-12T00:50:00Z',
      responseElements: { credentials: { accessKeyId: SESSION_KEY } },
    });
    // LookupEvents lists newest first: the use comes before the GetSessionToken that minted the key.
    const file = path.join(dir, 'newest-first.jsonl');
    writeFileSync(file, `${JSON.stringify(used)}\n${JSON.stringify(minted)}\n`);
    const { code, stdout } = await run(['--key', LEAKED_KEY, '--format', 'json', file]);
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as JsonOutput & { input: { passes: number } };
    expect(output.input.passes).toBe(2);
    expect(output.findings.map((f) => f.eventName)).toEqual(['CreateUser', 'GetSessionToken']);
  });

  it('analyzes the good records of a damaged file, names file and line of the bad ones, exits 1', async () => {
    const { code, stdout, stderr } = await run(['--format', 'json', DAMAGED]);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: ${DAMAGED}:2: invalid JSON`);
    expect(stderr).toContain(`error: ${DAMAGED}:3: not a CloudTrail record`);
    const output = JSON.parse(stdout) as JsonOutput;
    expect(output.input).toMatchObject({ records: 3, skipped: 2, damagedFiles: 0 });
    expect(output.findings.map((f) => f.eventName)).toEqual(
      expect.arrayContaining(['CreateUser', 'UpdateAccountSendingEnabled', 'GetCallerIdentity']),
    );
  });

  it('reads folders with gzipped trail files and says which files could not be read', async () => {
    writeFileSync(path.join(dir, 'a.json.gz'), gzipSync(readFileSync(TRAIL)));
    const missing = path.join(dir, 'nope.json');
    const { code, stdout, stderr } = await run([dir, missing]);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: ${missing}: no such file or folder`);
    expect(stdout).toMatch(/CRITICAL exfiltration {2}s3:PutBucketPolicy/);
    expect(stdout).toMatch(/1 files unreadable or cut short/);
  });

  it('exits 2 when nothing is readable', async () => {
    const garbage = path.join(dir, 'x.json');
    writeFileSync(garbage, 'not json at all');
    const result = await run([garbage, path.join(dir, 'missing.json')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Nothing readable');
  });

  it.each([
    [[], /Give at least one file/],
    [['--format', 'xml', LOOKUP], /--format must be text or json/],
    [['--key', 'not-a-key', LOOKUP], /is not an access key id/],
    [['--bogus', LOOKUP], /Unknown option/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const result = await run(args as string[]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('keeps progress off stderr for a small input on a pipe', async () => {
    const { stderr } = await run([LOOKUP], false);
    expect(stderr).toBe('');
  });

  it('is a command of the CLI', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['analyze'])).toBe(2);
      expect(stderr).toHaveBeenCalledWith(expect.stringContaining('Usage: exposed-key-responder analyze'));
    } finally {
      stderr.mockRestore();
    }
  });
});
