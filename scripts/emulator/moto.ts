/**
 * Starts and stops a local moto server (the AWS emulator) installed by scripts/emulator/install-moto.sh.
 *
 *   const moto = await startMoto();
 *   process.env.AWS_ENDPOINT_URL = moto.endpoint;
 *   ...
 *   await moto.reset(); // wipe all emulated state
 *   await moto.stop();
 *
 * The server runs with Debian's /usr/bin/python3 (the python3 on PATH may be a separate build that cannot
 * see Debian's packages) and PYTHONPATH pointing at the unpacked packages in .emulator/moto. Its output goes
 * to .emulator/moto-PORT.log (removed by stop() unless MOTO_KEEP_LOGS is set) and its PID to
 * .emulator/moto-PORT.pid (kill that PID to stop a stray server).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const EMULATOR_DIR = path.join(REPO_ROOT, '.emulator');
export const MOTO_SITE_PACKAGES = path.join(EMULATOR_DIR, 'moto', 'usr', 'lib', 'python3', 'dist-packages');
export const MOTO_PYTHON = '/usr/bin/python3';

const INSTALL_HINT = 'run `bash scripts/emulator/install-moto.sh` (or `npm run emulator:install`) first';
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export interface StartMotoOptions {
  /** Port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Extra environment for the server, e.g. { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' }. */
  env?: Record<string, string>;
}

export interface MotoServer {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL or a client's `endpoint`. */
  endpoint: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
  /** Wipes all emulated state (POST /moto-api/reset). */
  reset(): Promise<void>;
}

/** Path of the pid file written for a server on `port`. */
export function motoPidFile(port: number): string {
  return path.join(EMULATOR_DIR, `moto-${port}.pid`);
}

/** Path of the log file (stdout and stderr) of a server on `port`. */
export function motoLogFile(port: number): string {
  return path.join(EMULATOR_DIR, `moto-${port}.log`);
}

/** True when install-moto.sh has unpacked moto. */
export function isMotoInstalled(): boolean {
  return existsSync(path.join(MOTO_SITE_PACKAGES, 'moto', '__init__.py')) && existsSync(MOTO_PYTHON);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`port ${port} on 127.0.0.1 is not available for moto: ${err.code ?? err.message}`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

function logTail(port: number, lines = 20): string {
  try {
    const text = readFileSync(motoLogFile(port), 'utf8').trimEnd();
    return text
      ? `\n--- ${motoLogFile(port)} (last lines) ---\n${text.split('\n').slice(-lines).join('\n')}`
      : '';
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoServer> {
  if (!isMotoInstalled()) {
    throw new Error(
      `moto is not installed (no ${MOTO_SITE_PACKAGES}/moto or no ${MOTO_PYTHON}): ${INSTALL_HINT}`,
    );
  }
  // An explicit port that is taken would make the readiness poll talk to whatever listens there.
  if (opts.port !== undefined) await assertPortFree(opts.port);
  const port = opts.port ?? (await freeLoopbackPort());
  const endpoint = `http://127.0.0.1:${port}`;

  mkdirSync(EMULATOR_DIR, { recursive: true });
  const logFd = openSync(motoLogFile(port), 'w');
  const child = (() => {
    try {
      return spawn(MOTO_PYTHON, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          PYTHONPATH: MOTO_SITE_PACKAGES,
          PYTHONUNBUFFERED: '1',
          MOTO_EC2_LOAD_DEFAULT_AMIS: 'false',
          ...opts.env,
        },
        // A file instead of pipes: nothing on our side keeps the event loop alive or fills up.
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }
  })();
  // Never let the server keep this (parent) process alive; stop() holds the loop while it waits.
  child.unref();

  let exited = child.exitCode !== null || child.signalCode !== null;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
  });

  const pid = child.pid;
  const pidFile = motoPidFile(port);
  if (pid !== undefined) writeFileSync(pidFile, `${pid}\n`);
  const removePidFile = () => rmSync(pidFile, { force: true });

  let keepLog = Boolean(process.env.MOTO_KEEP_LOGS);
  // Safety net: if this process exits without stop(), do not leave the server running.
  const onParentExit = () => {
    if (!exited) child.kill('SIGTERM');
    removePidFile();
    if (!keepLog) rmSync(motoLogFile(port), { force: true });
  };
  process.once('exit', onParentExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (!stopping) {
      stopping = (async () => {
        if (!exited) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => {
            if (!exited) child.kill('SIGKILL');
          }, STOP_GRACE_MS);
          await exitPromise;
          clearTimeout(timer);
        }
        process.removeListener('exit', onParentExit);
        removePidFile();
        if (!keepLog) rmSync(motoLogFile(port), { force: true });
      })();
    }
    return stopping;
  };

  const reset = async (): Promise<void> => {
    const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status} ${await res.text()}`);
  };

  // Poll until the server answers.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      keepLog = true;
      await stop();
      throw new Error(`could not start ${MOTO_PYTHON}: ${spawnError.message}; ${INSTALL_HINT}`);
    }
    if (exited) {
      keepLog = true;
      await stop();
      const hint = logTail(port).includes('ModuleNotFoundError') ? `; ${INSTALL_HINT}` : '';
      throw new Error(
        `moto server exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready` +
          `${hint}${logTail(port)}`,
      );
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      keepLog = true;
      await stop();
      throw new Error(
        `moto server did not answer on ${endpoint}/moto-api/ within ${READY_TIMEOUT_MS / 1000} s ` +
          `(if the install is missing or broken, ${INSTALL_HINT})${logTail(port)}`,
      );
    }
    await sleep(100);
  }

  return { endpoint, port, pid: pid as number, stop, reset };
}
