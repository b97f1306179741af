import { CHATBOT_LIMITS, renderChatbot, SNS_MAX_BYTES, snsMessage } from '../../lambdas/report/chatbot';
import { renderEmail } from '../../lambdas/report/email';
import type { ReportInput } from '../../lambdas/report/types';
import { ACCOUNT, SAMPLE_KEY } from '../fixtures/events';
import { anIncident } from '../fixtures/incidents';
import {
  aHostileReportInput,
  aLargeReportInput,
  aReportInput,
  INCIDENT_ID,
  PRESIGNED_URL,
  REPORT_URL,
  SCRIPT,
} from '../fixtures/report/report-input';

interface Notification {
  version: string;
  source: string;
  id: string;
  content: { textType: string; title: string; description: string; nextSteps: string[]; keywords: string[] };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    relatedResources: string[];
    additionalContext: Record<string, string>;
    enableCustomActions: boolean;
  };
}

function parse(input: ReportInput): Notification {
  return JSON.parse(renderChatbot(input)) as Notification;
}

describe('renderChatbot', () => {
  it("uses Chatbot's custom notification schema", () => {
    // Act
    const n = parse(aReportInput());

    // Assert
    expect(n.version).toBe('1.0');
    expect(n.source).toBe('custom');
    expect(n.id).toBe(INCIDENT_ID);
    expect(n.content.textType).toBe('client-markdown');
    expect(Object.keys(n.content).sort()).toEqual([
      'description',
      'keywords',
      'nextSteps',
      'textType',
      'title',
    ]);
    expect(n.content.title).toBe(`:rotating_light: CRITICAL | CONTAINED: leaked ${SAMPLE_KEY} in ${ACCOUNT}`);
    expect(n.content.keywords).toEqual(['CRITICAL', 'CONTAINED', ACCOUNT]);
    expect(n.metadata.threadId).toBe(`exposed-key-${INCIDENT_ID}`);
    expect(n.metadata.relatedResources).toEqual([SAMPLE_KEY]);
    expect(n.metadata.enableCustomActions).toBe(false);
    expect(Object.values(n.metadata.additionalContext).every((v) => typeof v === 'string')).toBe(true);
  });

  it('answers the four questions first and links the report, never the presigned URL', () => {
    // Act
    const { description, nextSteps } = parse(aReportInput()).content;

    // Assert
    const lines = description.split('\n');
    expect(lines[0]).toMatch(
      /^\*Key\* `AKIAEXAMPLEEXAMPLE12` \(IAM user ci-deployer\): \*DEAD, deactivated /,
    );
    expect(lines[1]).toMatch(/^\*Attacker:\* YES - /);
    expect(lines[2]).toMatch(/^\*Still there:\* 5 resources made or changed by the key, about \$7\.82\/h/);
    expect(lines[3]).toBe(`*Full report:* <${REPORT_URL}|open>`);
    expect(description).toContain(
      '*Could not see:* 1 region not fully read (me-central-1); management events only;',
    );
    expect(description).toContain('S3 object reads cannot be ruled out');
    expect(description).not.toContain(PRESIGNED_URL);
    expect(description).not.toContain('X-Amz-Signature');
    expect(nextSteps[0]).toMatch(/^Remove the 5 resources the key left/);
  });

  it('stays within the caps with 500 findings and 300 resources', () => {
    // Act
    const n = parse(aLargeReportInput());

    // Assert
    expect(n.content.title.length).toBeLessThanOrEqual(CHATBOT_LIMITS.title);
    expect(n.content.description.length).toBeLessThanOrEqual(CHATBOT_LIMITS.description);
    expect(n.content.nextSteps.length).toBeLessThanOrEqual(CHATBOT_LIMITS.nextSteps);
    for (const step of n.content.nextSteps) expect(step.length).toBeLessThanOrEqual(CHATBOT_LIMITS.nextStep);
    expect(n.content.keywords.length).toBeLessThanOrEqual(CHATBOT_LIMITS.keywords);
    for (const k of n.content.keywords) expect(k.length).toBeLessThanOrEqual(CHATBOT_LIMITS.keyword);
    expect(n.metadata.summary.length).toBeLessThanOrEqual(CHATBOT_LIMITS.summary);
    expect(n.content.description).toContain('_495 more in the report_');
    expect(n.content.description).toContain('_295 more in the report_');
  });

  it('escapes attacker strings for Slack: no raw angle brackets, no mention, no link', () => {
    // Arrange
    const input = aHostileReportInput();
    input.analysis?.findings.push({
      ...(input.analysis.findings.at(-1) as NonNullable<ReportInput['analysis']>['findings'][number]),
      eventId: 'evt-mention',
      severity: 'critical',
      resources: ['<!channel> <https://evil.example|click> `x`', SCRIPT],
    });

    // Act
    const { description } = parse(input).content;

    // Assert
    expect(description).not.toContain('<script>');
    expect(description).not.toContain('<!channel>');
    expect(description).not.toContain('<https://evil.example');
    expect(description).toContain("`&lt;!channel&gt; &lt;https://evil.example|click&gt; 'x', &lt;script&gt;");
    expect(description).toContain('&lt;script&gt;');
  });

  it('says what is missing', () => {
    // Act
    const n = parse(aReportInput({ inventory: undefined, analysis: undefined }));

    // Assert
    expect(n.content.title).toMatch(/NOT ANALYZED \| CONTAINED/);
    expect(n.content.description).toContain('*Attacker:* UNKNOWN - the activity was not analyzed');
    expect(n.content.description).toContain('*Still there:* UNKNOWN - the inventory did not run');
    expect(n.content.description).toContain('MISSING: Analysis, Inventory');
  });

  it('marks a drill', () => {
    // Act
    const n = parse(aReportInput({ incident: anIncident({ trigger: 'drill' }) }));

    // Assert
    expect(n.content.title).toMatch(/^:test_tube: DRILL CRITICAL/);
    expect(n.content.keywords).toContain('DRILL');
  });
});

describe('snsMessage', () => {
  it('is one Publish with a JSON message: Chatbot reads `https` (and `default`), email and SQS read the text', () => {
    // Arrange
    const input = aReportInput();

    // Act
    const message = snsMessage(input);

    // Assert
    expect(message.MessageStructure).toBe('json');
    const parsed = JSON.parse(message.Message) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['default', 'email', 'https', 'sqs']);
    expect(parsed.sqs).toBe(parsed.email);
    expect(parsed.default).toBe(renderChatbot(input));
    expect(parsed.https).toBe(parsed.default);
    expect(parsed.email).toBe(renderEmail(input).text);
    expect(JSON.parse(parsed.https as string).source).toBe('custom');
    expect(message.Subject).toBe(renderEmail(input).subject);
    expect(message.Subject.length).toBeLessThan(100);
  });

  it('stays under 256 KB with 500 findings, 300 resources and hostile strings', () => {
    // Arrange
    const input = aLargeReportInput();
    const hostile = aHostileReportInput();
    input.analysis?.summary.userAgents.push(...(hostile.analysis?.summary.userAgents ?? []));

    // Act
    const message = snsMessage(input);

    // Assert
    expect(Buffer.byteLength(message.Message, 'utf8')).toBeLessThan(SNS_MAX_BYTES);
    expect(() => JSON.parse(message.Message)).not.toThrow();
  });
});
