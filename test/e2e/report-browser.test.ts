import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderHtml } from '../../lambdas/report/html';
import type { ReportInput } from '../../lambdas/report/types';
import { renderTimeline, screenshotReport } from '../../scripts/browser/chromium';
import { aHostileReportInput, aLargeReportInput, aReportInput } from '../fixtures/report/report-input';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ekr-report-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function save(name: string, input: ReportInput): string {
  const file = path.join(dir, name);
  writeFileSync(file, renderHtml(input));
  return file;
}

describe('the HTML report in headless Chromium', () => {
  it('draws one visible mark per call inside the picture, failed calls hollow, containment marked', async () => {
    // Arrange
    const input = aReportInput();
    const events = input.timelineEvents ?? [];
    const file = save('typical.html', input);

    // Act
    const rendered = await renderTimeline(file);

    // Assert
    expect(rendered.svgBox?.width).toBeGreaterThan(600);
    expect(rendered.marks.map((m) => m.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
    expect(rendered.marks.every((m) => m.visible && m.inside)).toBe(true);
    const failedIds = events.filter((e) => e.failed).map((e) => e.eventId);
    expect(failedIds.length).toBeGreaterThan(0);
    expect(
      rendered.marks
        .filter((m) => m.hollow)
        .map((m) => m.eventId)
        .sort(),
    ).toEqual(failedIds.sort());
    for (const m of rendered.marks) {
      expect(m.region).toBe(events.find((e) => e.eventId === m.eventId)?.region);
    }
    expect(rendered.containmentLines).toBe(1);
    expect(rendered.detectedLines).toBe(1);
    expect(rendered.externalRequests).toEqual([]);
  }, 60_000);

  it('keeps every one of 500 marks visible and inside the picture', async () => {
    // Arrange
    const file = save('large.html', aLargeReportInput());

    // Act
    const rendered = await renderTimeline(file);

    // Assert
    expect(rendered.marks).toHaveLength(500);
    expect(rendered.marks.filter((m) => !m.visible || !m.inside)).toEqual([]);
    expect(new Set(rendered.marks.map((m) => m.eventId)).size).toBe(500);
  }, 60_000);

  it('opens a report full of attacker-chosen markup without running or fetching anything', async () => {
    // Arrange
    const file = save('hostile.html', aHostileReportInput());

    // Act
    const rendered = await renderTimeline(file);

    // Assert
    expect(rendered.externalRequests).toEqual([]);
    expect(rendered.title).not.toMatch(/<|>/);
    expect(rendered.marks.length).toBeGreaterThan(0);
  }, 60_000);

  it('saves a screenshot of the first screen', async () => {
    // Arrange
    const file = save('shot.html', aReportInput());
    const png = path.join(dir, 'shot.png');

    // Act
    await screenshotReport(file, png);

    // Assert
    expect(statSync(png).size).toBeGreaterThan(10_000);
  }, 60_000);
});
