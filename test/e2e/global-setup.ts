import { ensureChromiumInstalled } from '../../scripts/browser/chromium';
import { ensureMotoInstalled } from '../../scripts/emulator/ensure-moto';

/** The e2e suites need the emulator and a browser; installing them is a no-op once done (CI does it up front). */
export default function globalSetup(): void {
  ensureMotoInstalled();
  ensureChromiumInstalled();
}
