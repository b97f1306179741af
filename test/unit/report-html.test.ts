import { renderHtml } from '../../lambdas/report/html';
import { MAX_MARKS } from '../../lambdas/report/timeline-svg';
import { aContainedResult } from '../fixtures/incidents';
import {
  aHostileReportInput,
  aLargeReportInput,
  aManifest,
  aReportInput,
  IMG,
  PRESIGNED_URL,
  REPORT_URL,
  SCRIPT,
  typicalTimeline,
} from '../fixtures/report/report-input';

function svgOf(html: string): string {
  const match = html.match(/<svg data-testid="timeline"[\s\S]*?<\/svg>/);
  if (!match) throw new Error('no timeline svg');
  return match[0];
}

function marks(svg: string): string[] {
  return [...svg.matchAll(/<circle data-event-id="[^"]*"[^>]*>/g)].map((m) => m[0]);
}

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

describe('renderHtml', () => {
  it('is one self-contained file: no script, no external asset, a CSP that forbids both', () => {
    // Act
    const html = renderHtml(aReportInput());

    // Assert
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\ssrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:;`);
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
    // The only hrefs are the content's own links: the report, evidence, presigned URL and console pages.
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1].replaceAll('&amp;', '&'));
    expect(hrefs).toContain(REPORT_URL);
    expect(hrefs).toContain(PRESIGNED_URL);
    for (const href of hrefs) expect(href).toMatch(/^https:\/\/(console\.aws\.amazon\.com|ekr-evidence-)/);
    // The only namespace URI is SVG's, which is an identifier, not a fetch.
    expect(html.match(/http:\/\/[^"'\s<]*/g)).toEqual(['http://www.w3.org/2000/svg']);
  });

  describe('timeline', () => {
    it('draws one mark per event, in one lane per region', () => {
      // Arrange
      const events = typicalTimeline();

      // Act
      const svg = svgOf(renderHtml(aReportInput()));

      // Assert
      const drawn = marks(svg);
      expect(drawn).toHaveLength(events.length);
      expect(events.length).toBe(20);
      for (const e of events) expect(svg).toContain(`data-event-id="${e.eventId}"`);
      const lanes = [...svg.matchAll(/<g data-region="([^"]*)">/g)].map((m) => m[1]);
      expect(lanes).toEqual(['ap-southeast-2', 'eu-north-1', 'eu-west-1', 'us-east-1']);
      // Each mark sits in its region's lane.
      const euNorth = svg.split('<g data-region="eu-north-1">')[1].split('</g>')[0];
      expect(marks(euNorth)).toHaveLength(events.filter((e) => e.region === 'eu-north-1').length);
    });

    it('draws failed calls hollow and the others filled', () => {
      // Arrange
      const events = typicalTimeline();

      // Act
      const drawn = marks(svgOf(renderHtml(aReportInput())));

      // Assert
      const hollow = drawn.filter((m) => m.includes('fill="none"'));
      expect(hollow).toHaveLength(events.filter((e) => e.failed).length);
      expect(hollow.length).toBeGreaterThan(0);
      for (const e of events.filter((x) => x.failed)) {
        expect(drawn.find((m) => m.includes(`data-event-id="${e.eventId}"`))).toContain('fill="none"');
      }
      for (const m of drawn.filter((x) => x.includes('data-failed="false"')))
        expect(m).not.toContain('fill="none"');
    });

    it('marks containment per key and AWS detection, with a legend', () => {
      // Act
      const html = renderHtml(aReportInput());

      // Assert
      const svg = svgOf(html);
      expect(svg).toMatch(/<line data-testid="containment" data-key="AKIAEXAMPLEEXAMPLE12"/);
      expect(svg).toContain('data-testid="detected"');
      expect(html).toContain('data-testid="legend"');
      expect(html).toContain('failed (hollow)');
      expect(html).toContain('key deactivated');
    });

    it('draws no containment line for a key that is still active', () => {
      // Act
      const svg = svgOf(
        renderHtml(
          aReportInput({
            containment: [aContainedResult({ decision: 'notify-only', keyStatusAfter: 'Active' })],
          }),
        ),
      );

      // Assert
      expect(svg).not.toContain('data-testid="containment"');
    });

    it('falls back to the findings when no event list is given', () => {
      // Arrange
      const input = aReportInput({ timelineEvents: undefined });

      // Act
      const html = renderHtml(input);

      // Assert
      expect(marks(svgOf(html))).toHaveLength(input.analysis?.findings.length ?? -1);
      expect(html).toContain('only findings are drawn');
    });
  });

  it('has every section, in order', () => {
    // Act
    const html = renderHtml(aReportInput());

    // Assert
    const ids = [...html.matchAll(/<(?:section|div class="glance") id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual([
      'glance',
      'timeline',
      'findings',
      'inventory',
      'sources',
      'pivots',
      'responder',
      'coverage',
      'support-reply',
      'links',
    ]);
    expect(html).toContain('Is the key dead?');
    expect(html).toContain('What is still there, at what cost?');
    expect(html).toContain(
      'aws ec2 terminate-instances --region eu-north-1 --instance-ids i-0aaaaaaaaaaaaaaa1',
    );
    expect(html).toContain('ASIA2EXAMPLESESSION6');
    expect(html).toContain('iam:UpdateAccessKey');
    expect(html).toContain('203.0.113.66');
    expect(html).toContain('python-requests/2.31.0');
    expect(html).toContain('1. ACCESS KEYS');
  });

  it('states coverage, data events and what is missing', () => {
    // Act
    const full = renderHtml(aReportInput());
    const partial = renderHtml(
      aReportInput({
        analysis: undefined,
        inventory: undefined,
        timelineEvents: undefined,
        missing: [{ part: 'Evidence bundle', why: 'S3 PutObject failed' }],
      }),
    );

    // Assert
    expect(full).toContain('15 of 16 regions read completely');
    expect(full).toContain('management events only');
    expect(full).toContain('S3 object reads cannot be ruled out.');
    expect(full).toContain('Lambda invocations cannot be ruled out.');
    expect(full).not.toContain('Incomplete report.');
    expect(partial).toContain(
      '<strong>Incomplete report.</strong> Missing: Evidence bundle (S3 PutObject failed); Analysis',
    );
    expect(partial).toContain('<strong>Missing: Inventory.</strong>');
    expect(partial).toContain('Not available:</strong> the activity was not analyzed.');
    expect(partial).toContain('Not available:</strong> the inventory did not run');
  });

  it('says how many calls from the middle of a long attack the picture leaves out', () => {
    // Act
    const html = renderHtml(aReportInput({ timelineOmitted: 12_345 }));

    // Assert
    expect(html).toContain('12,345 calls from the middle of the activity not drawn');
  });

  it('folds the per-region table when every region was read, and opens it when one was not', () => {
    // Arrange
    const manifest = aManifest();
    const allRead = aManifest({
      regions: manifest.regions.map((r) => ({ ...r, complete: true, errors: [] })),
    });

    // Act
    const partial = renderHtml(aReportInput({ activity: manifest }));
    const complete = renderHtml(aReportInput({ activity: allRead }));

    // Assert
    expect(partial).toContain('<details open><summary>Per region: 16 read, 1 incomplete</summary>');
    expect(complete).toContain('<details><summary>Per region: 16 read, 0 incomplete</summary>');
  });

  it('escapes every attacker-controlled string and refuses javascript: links', () => {
    // Act
    const html = renderHtml(aHostileReportInput());

    // Assert
    expect(html).not.toContain(SCRIPT);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).toContain(escapeHtml(`Mozilla/5.0 ${SCRIPT}`)); // the user agent
    expect(html).toContain(escapeHtml(`miner${SCRIPT}`)); // the key pair's name
    expect(html).toContain(escapeHtml(IMG)); // the source IP table
    expect(html).toContain(`<g data-region="${escapeHtml(`eu-north-1${SCRIPT}`)}">`);
    expect(html).toContain(`data-event-id="${escapeHtml(`evt-${SCRIPT}`)}"`);
  });

  it('renders 500 findings, 300 resources and 500 marks in a file that stays small', () => {
    // Act
    const html = renderHtml(aLargeReportInput());

    // Assert
    expect(marks(svgOf(html))).toHaveLength(500);
    expect(html.match(/i-0bulk\d{12}<\/code>/g)?.length).toBeGreaterThanOrEqual(300);
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);
    expect(MAX_MARKS).toBeGreaterThanOrEqual(500);
  });
});
