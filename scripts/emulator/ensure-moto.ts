import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { isMotoInstalled, REPO_ROOT } from './moto';

/** Installs the emulator on first use (the script is a quick no-op once installed). */
export function ensureMotoInstalled(
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): void {
  if (isMotoInstalled()) return;
  log('Installing the AWS emulator (moto) into .emulator/ - one time, about a minute...');
  const result = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/emulator/install-moto.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !isMotoInstalled()) {
    throw new Error(
      'Installing the emulator failed (see above). It needs root (apt-get) on Debian 12: run `sudo bash scripts/emulator/install-moto.sh`.',
    );
  }
}
