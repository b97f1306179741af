import { parseArgs } from 'node:util';
import { DrillInputError, runDrill } from '../drill/drill';
import { formatReport, formatStep } from '../drill/print';
import { runAnalyze } from './analyze';

const USAGE = `Usage: exposed-key-responder <command> [options]

Commands:
  drill                 Run the whole workflow against an emulated AWS account (no AWS needed)
    --json              Print one JSON object instead of the narrated run
    --event-file FILE   Send the event in FILE (JSON or YAML) instead of the default Health event;
                        {{VICTIM_KEY}}, {{SECOND_KEY}} and {{ACCOUNT_ID}} are filled in
    --mode MODE         contain (default) | notify-only | dry-run
    --scenario FILE     The attacker's steps before the leak (JSON or YAML); default: the shipped one
    --no-scenario       No attacker activity before the leak
    --out DIR           Where report.html and email.txt are written (default ./drill-output)
    --screenshot        Also save report.png, the report's first screen in headless Chromium
  analyze FILE...       Triage a key's CloudTrail activity: LookupEvents output, trail files (.json,
                        .json.gz, folders) or JSON lines; most dangerous first
    --key AKIA...       Keep only this access key's records (repeatable)
    --format FORMAT     text (default) | json
  help                  Show this text
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'analyze') return runAnalyze(rest, { stdout: process.stdout, stderr: process.stderr });
  if (command !== 'drill') {
    process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }
  let values: {
    json?: boolean;
    'event-file'?: string;
    mode?: string;
    scenario?: string;
    'no-scenario'?: boolean;
    out?: string;
    screenshot?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        json: { type: 'boolean' },
        'event-file': { type: 'string' },
        mode: { type: 'string' },
        scenario: { type: 'string' },
        'no-scenario': { type: 'boolean' },
        out: { type: 'string' },
        screenshot: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const json = values.json ?? false;
  const say = (line: string) => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  let startedAt = 0;
  try {
    const report = await runDrill({
      eventFile: values['event-file'],
      scenario: values['no-scenario'] ? 'none' : (values.scenario ?? 'default'),
      context: values.mode ? { mode: values.mode } : {},
      outDir: values.out,
      screenshot: values.screenshot ?? false,
      log: (line) => process.stderr.write(`${line}\n`),
      onStep: (step) => {
        if (step.type === 'ExecutionStarted') {
          startedAt = step.at;
          say('\nWorkflow "Respond to exposed key":');
        }
        const line = formatStep(step, startedAt);
        if (line) say(line);
      },
    });
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else say(formatReport(report));
    // The default drill must contain the victim key; with an event file any completed run counts.
    const victim = report.keys.find((k) => k.role === 'victim');
    const expectContained = !values['event-file'] && (!values.mode || values.mode === 'contain');
    return expectContained && victim?.statusAfter !== 'Inactive' ? 1 : 0;
  } catch (error) {
    if (error instanceof DrillInputError || (error as Error).name === 'ConfigError') {
      process.stderr.write(`${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}
