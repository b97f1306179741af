import { EMAIL_MAX_BYTES, renderEmail } from '../../lambdas/report/email';
import type { ContainmentResult } from '../../lambdas/shared/types';
import { ACCOUNT, SAMPLE_KEY } from '../fixtures/events';
import { aContainedResult, anIncident } from '../fixtures/incidents';
import {
  aHostileReportInput,
  aLargeReportInput,
  anItem,
  aReportInput,
  EMAIL_SECTION_HEADINGS,
  PRESIGNED_URL,
  REPORT_URL,
  SCRIPT,
} from '../fixtures/report/report-input';

const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

describe('renderEmail', () => {
  describe('subject', () => {
    it('gives severity, containment, key, account and user in under 100 ASCII characters', () => {
      // Act
      const { subject } = renderEmail(aReportInput());

      // Assert
      expect(subject).toBe(`[CRITICAL][CONTAINED] Report: ${SAMPLE_KEY} in ${ACCOUNT}, IAM user ci-deployer`);
      expect(subject.length).toBeLessThan(100);
      expect(subject).toMatch(PRINTABLE_ASCII);
    });

    it('keeps the account when a long unicode user name is cut', () => {
      // Arrange
      const userName = 'Zoë-Ærøskøbing-運用チーム-🚀\n'.repeat(6);
      const input = aReportInput({ containment: [aContainedResult({ owner: { type: 'user', userName } })] });

      // Act
      const { subject } = renderEmail(input);

      // Assert
      expect(subject.length).toBeLessThan(100);
      expect(subject).toMatch(PRINTABLE_ASCII);
      expect(subject).toContain(`in ${ACCOUNT}, IAM user Zo?`);
    });

    it('says DRILL, NOT ANALYZED and NOT CONTAINED when they apply', () => {
      // Arrange
      const input = aReportInput({
        incident: anIncident({ trigger: 'drill' }),
        analysis: undefined,
        containment: [
          aContainedResult({ decision: 'dry-run', containedAt: undefined, keyStatusAfter: 'Active' }),
        ],
      });

      // Act
      const { subject } = renderEmail(input);

      // Assert
      expect(subject).toMatch(/^\[DRILL NOT ANALYZED\]\[DRY RUN\] Report: /);
    });
  });

  describe('first lines', () => {
    it('answer, in order: is the key dead, did the attacker act, what is still there, what to do', () => {
      // Act
      const lines = renderEmail(aReportInput()).text.split('\n');

      // Assert
      expect(lines[0]).toBe(
        `KEY ${SAMPLE_KEY} (IAM user ci-deployer, account ${ACCOUNT}): DEAD, deactivated 2025-02-12 00:38:36Z, 42 s after AWS detected it.`,
      );
      expect(lines[1]).toMatch(/^ATTACKER: YES - persistence, .*compute on our bill.*\(3 critical, 6 high/);
      expect(lines[2]).toMatch(
        /^STILL THERE: 5 resources made or changed by the key, about \$7\.82\/h \(\$188\/day\)/,
      );
      expect(lines[3]).toBe('DO NOW:');
      expect(lines[4]).toMatch(/^1\. Remove the 5 resources the key left/);
      expect(lines[7]).toBe(`Full report: ${REPORT_URL}`);
    });

    it('says a key is still active and puts the command to deactivate it first', () => {
      // Arrange
      const failed: ContainmentResult = aContainedResult({
        decision: 'failed',
        containedAt: undefined,
        keyStatusAfter: undefined,
        actions: [],
        error: 'AccessDenied: not authorized to perform iam:UpdateAccessKey',
      });

      // Act
      const { subject, text } = renderEmail(aReportInput({ containment: [failed] }));

      // Assert
      expect(subject).toMatch(/^\[CRITICAL\]\[FAILED\] /);
      expect(text.split('\n')[0]).toMatch(/: STILL ACTIVE, containment FAILED\. AccessDenied/);
      expect(text).toContain(`1. Deactivate key ${SAMPLE_KEY} now (IAM user ci-deployer).`);
      expect(text).toContain(
        `aws iam update-access-key --user-name ci-deployer --access-key-id ${SAMPLE_KEY} --status Inactive`,
      );
    });
  });

  it('has every section, the timeline with detection and containment, and the links', () => {
    // Act
    const { text } = renderEmail(aReportInput());

    // Assert
    const positions = EMAIL_SECTION_HEADINGS.map((title) => text.indexOf(title));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text).toContain('2025-02-12 00:37:54Z  AWS detected the exposure (AWS_RISK_CREDENTIALS_EXPOSED)');
    expect(text).toContain(`2025-02-12 00:38:36Z  Key ${SAMPLE_KEY} deactivated by the responder`);
    expect(text).toContain(
      'aws ec2 terminate-instances --region eu-north-1 --instance-ids i-0aaaaaaaaaaaaaaa1',
    );
    expect(text).toContain("Answer AWS's support case by 2025-02-17 00:37:54Z");
    expect(text).toContain(`expires 2025-02-19 00:40:00Z): ${PRESIGNED_URL}`);
  });

  it('lists the most severe findings first and leaves out AWS and the responder', () => {
    // Act
    const { text } = renderEmail(aReportInput());

    // Assert
    const findings = text.split('== MOST SEVERE FINDINGS ==')[1].split('\n==')[0];
    const tags = [...findings.matchAll(/^\[([A-Z, a-z]+)\]/gm)].map((m) => m[1]);
    expect(tags.slice(0, 4)).toEqual(['CRITICAL', 'CRITICAL', 'CRITICAL', 'HIGH']);
    expect(findings).not.toContain('UpdateAccessKey');
    expect(findings).toContain('... and 2 more findings in the report.');
  });

  it('states coverage: incomplete regions, management events only, data events', () => {
    // Act
    const { text } = renderEmail(aReportInput());

    // Assert
    expect(text).toContain('CloudTrail activity: 15 of 16 regions read completely');
    expect(text).toContain('  - me-central-1: States.Timeout: no detail');
    expect(text).toContain('CloudTrail lookups hold management events only');
    expect(text).toContain('S3 data events: no trail records them. S3 object reads cannot be ruled out.');
    expect(text).toContain('Lambda invocations cannot be ruled out.');
    expect(text).toContain('  - ec2 in ap-south-1: ThrottlingException: Rate exceeded');
  });

  it('says when a trail records S3 data events that the report did not read', () => {
    // Act
    const { text } = renderEmail(aReportInput({ dataEvents: { s3: true, lambda: true } }));

    // Assert
    expect(text).toContain('S3 data events: a trail records them, but this report did not read them');
    expect(text).not.toContain('S3 object reads cannot be ruled out');
  });

  it('says what is missing instead of hiding it', () => {
    // Arrange
    const input = aReportInput({
      activity: { skipped: 'States.Timeout after 900 s' },
      analysis: undefined,
      inventory: undefined,
      missing: [{ part: 'Evidence bundle', why: 'S3 PutObject failed: AccessDenied' }],
      links: {},
    });

    // Act
    const { text } = renderEmail(input);

    // Assert
    expect(text).toContain('ATTACKER: UNKNOWN - the activity was not analyzed');
    expect(text).toContain('STILL THERE: UNKNOWN - the inventory did not run.');
    expect(text).toMatch(/^INCOMPLETE: Evidence bundle, CloudTrail activity, Analysis, Inventory missing/m);
    expect(text).toContain('CloudTrail activity: NOT COLLECTED (States.Timeout after 900 s).');
    expect(text).toContain('MISSING: Evidence bundle: S3 PutObject failed: AccessDenied');
    expect(text).toContain('MISSING: Analysis: no result reached the report');
    expect(text).toContain('Not available: the inventory did not run.');
    expect(text).toContain('None: the report and evidence were not stored.');
  });

  it('stays under 60 KB with 500 findings and 300 resources, saying how many more the report holds', () => {
    // Act
    const { text } = renderEmail(aLargeReportInput());

    // Assert
    expect(bytes(text)).toBeLessThanOrEqual(EMAIL_MAX_BYTES);
    expect(text).toContain('... and 490 more findings in the report.');
    expect(text).toContain('... and 285 more resources in the report.');
  });

  it('cuts at a whole line under a smaller cap and says where the rest is', () => {
    // Act
    const { text } = renderEmail(aLargeReportInput(), { maxBytes: 4000 });

    // Assert
    expect(bytes(text)).toBeLessThanOrEqual(4000);
    expect(text.split('\n').at(-1)).toBe('... cut here to fit an email: the rest is in the full report.');
    expect(text.startsWith('KEY ')).toBe(true);
  });

  it('never lets an attacker-chosen name forge a line', () => {
    // Arrange
    const input = aHostileReportInput();
    input.inventory?.items.push(
      anItem({
        id: `x\nKEY ${SAMPLE_KEY}: DEAD\u202e`,
        cleanup: `aws ec2 delete-key-pair --key-name 'x\nKEY forged'`,
      }),
    );

    // Act
    const { text } = renderEmail(input);

    // Assert
    expect(text.split('\n').filter((l) => l.startsWith('KEY '))).toHaveLength(1);
    expect(text).not.toContain('\u202e');
    expect(text).toContain(
      '(clean-up command holds control characters or is too long: copy it from the HTML report)',
    );
    expect(text).toContain(SCRIPT); // plain text: shown as the inert string it is
  });
});
