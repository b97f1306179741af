/// <reference lib="dom" />
/**
 * The report as a person sees it: opened in Debian's headless Chromium (scripts/browser/install-chromium.sh)
 * through playwright-core, which drives a browser it did not download.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

export class ChromiumMissingError extends Error {
  constructor() {
    super(
      'Chromium was not found (looked at $CHROMIUM_PATH, /usr/bin/chromium). Install it with `bash scripts/browser/install-chromium.sh` (Debian package chromium).',
    );
    this.name = 'ChromiumMissingError';
  }
}

async function launch(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new ChromiumMissingError();
  // --no-sandbox: CI runs as root, where Chromium refuses its sandbox. The page is our own file and allows no script.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** What the browser drew of the timeline: each mark's id, whether it has a visible box inside the picture. */
export interface RenderedTimeline {
  svgBox: { width: number; height: number } | null;
  marks: { eventId: string; visible: boolean; inside: boolean; hollow: boolean; region: string }[];
  containmentLines: number;
  detectedLines: number;
  /** Requests the page tried to make beyond its own file: a self-contained report makes none. */
  externalRequests: string[];
  title: string;
}

export async function renderTimeline(htmlFile: string): Promise<RenderedTimeline> {
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const externalRequests: string[] = [];
    const own = pathToFileURL(htmlFile).href;
    page.on('request', (r) => {
      if (r.url() !== own && !r.url().startsWith('data:')) externalRequests.push(r.url());
    });
    await page.goto(own, { waitUntil: 'load' });
    const svg = page.getByTestId('timeline');
    const svgBox = await svg.boundingBox();
    const marks = await page.$$eval('svg[data-testid="timeline"] circle[data-event-id]', (circles) =>
      circles.map((c) => {
        const box = c.getBoundingClientRect();
        const frame = ((c as SVGElement).ownerSVGElement as SVGSVGElement).getBoundingClientRect();
        const style = getComputedStyle(c);
        return {
          eventId: c.getAttribute('data-event-id') ?? '',
          visible:
            box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none',
          inside:
            box.left >= frame.left - 0.5 &&
            box.right <= frame.right + 0.5 &&
            box.top >= frame.top - 0.5 &&
            box.bottom <= frame.bottom + 0.5,
          hollow: style.fill === 'none',
          region: c.parentElement?.getAttribute('data-region') ?? '',
        };
      }),
    );
    return {
      svgBox: svgBox ? { width: svgBox.width, height: svgBox.height } : null,
      marks,
      containmentLines: await page.locator('[data-testid="containment"]').count(),
      detectedLines: await page.locator('[data-testid="detected"]').count(),
      externalRequests,
      title: await page.title(),
    };
  } finally {
    await browser.close();
  }
}

/** A PNG of the report's first screen (the summary and the timeline). */
export async function screenshotReport(htmlFile: string, pngFile: string): Promise<void> {
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    await page.screenshot({ path: pngFile, fullPage: false });
  } finally {
    await browser.close();
  }
}

/** Installs Debian's chromium on first use (the script is a quick no-op once installed). */
export function ensureChromiumInstalled(
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): void {
  if (chromiumPath()) return;
  log('Installing Chromium from Debian (for the report test and screenshots) - one time...');
  const result = spawnSync('bash', [path.join(__dirname, 'install-chromium.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !chromiumPath()) throw new ChromiumMissingError();
}
