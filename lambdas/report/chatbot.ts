/**
 * The report in Slack (or Teams) through AWS Chatbot, now "Amazon Q Developer in chat applications", and
 * the one SNS message that carries it next to the email.
 *
 * Chatbot renders a card only for its custom notification schema:
 *   { version: "1.0", source: "custom", id?, content: { textType: "client-markdown", title?, description,
 *     nextSteps?: string[], keywords?: string[] }, metadata?: { threadId?, summary?, eventType?,
 *     relatedResources?: string[], additionalContext?: {..}, enableCustomActions? } }
 * (AWS docs, "Custom notifications using Amazon Q Developer in chat applications"). Anything else posted to
 * its topic is dropped without an error. `client-markdown` is the chat platform's own markdown: for Slack,
 * mrkdwn, where `&`, `<` and `>` must be escaped and `<url|text>` is a link.
 *
 * The docs name no numeric limits for these fields; the caps below are Slack's Block Kit limits (header
 * text 150 characters, section text 3,000), the tightest surface the card is drawn on.
 */
import { fitBytes, renderEmail, reportSubject } from './email';
import {
  findingResources,
  oneLine,
  plural,
  type ReportFacts,
  reportFacts,
  resourceName,
  runningText,
  safeUrl,
  severityTag,
  truncate,
  usd,
  utc,
} from './model';
import type { ReportInput } from './types';

export const CHATBOT_LIMITS = {
  title: 150,
  description: 3000,
  nextSteps: 5,
  nextStep: 300,
  keywords: 5,
  keyword: 40,
  summary: 200,
};

/** SNS rejects a published message over 256 KB (all protocols' variants together). */
export const SNS_MAX_BYTES = 256 * 1024;

const LIST = { findings: 5, resources: 5, regions: 4 };

export interface ChatbotNotification {
  version: '1.0';
  source: 'custom';
  id: string;
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    relatedResources: string[];
    additionalContext: Record<string, string>;
    enableCustomActions: false;
  };
}

/** Slack mrkdwn escaping of one inert line (only `&`, `<`, `>` are special to Slack's parser). */
export function md(value: unknown, max = 300): string {
  return oneLine(value, max).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A value the attacker may have chosen, as inline code: no formatting, no mention, no link inside. */
export function code(value: unknown, max = 120): string {
  return `\`${md(value, max).replaceAll('`', "'")}\``;
}

export function buildChatbotNotification(
  input: ReportInput,
  facts = reportFacts(input),
): ChatbotNotification {
  const icon = facts.drill
    ? ':test_tube:'
    : facts.severity === 'critical' || facts.severity === 'high' || !facts.allDead
      ? ':rotating_light:'
      : facts.severity === 'unknown'
        ? ':grey_question:'
        : ':warning:';
  const keyPart =
    facts.keys.length === 1 ? facts.keys[0].result.accessKeyId : plural(facts.keys.length, 'key');
  const title = truncate(
    `${icon} ${facts.drill ? 'DRILL ' : ''}${severityTag(facts.severity)} | ${facts.containmentTag}: leaked ${keyPart} in ${facts.accountId}`,
    CHATBOT_LIMITS.title,
  );
  const keywords = [
    severityTag(facts.severity),
    facts.containmentTag,
    facts.accountId,
    ...(facts.drill ? ['DRILL'] : []),
  ]
    .map((k) => truncate(k, CHATBOT_LIMITS.keyword))
    .slice(0, CHATBOT_LIMITS.keywords);
  const nextSteps = facts.steps.slice(0, CHATBOT_LIMITS.nextSteps).map((s) => {
    const withCommand = s.command ? `${md(s.text)} ${code(s.command, 200)}` : md(s.text);
    return withCommand.length <= CHATBOT_LIMITS.nextStep
      ? withCommand
      : truncate(md(s.text), CHATBOT_LIMITS.nextStep);
  });
  return {
    version: '1.0',
    source: 'custom',
    id: facts.incidentId,
    content: {
      textType: 'client-markdown',
      title,
      description: description(input, facts),
      nextSteps,
      keywords,
    },
    metadata: {
      threadId: `exposed-key-${facts.incidentId}`,
      summary: truncate(reportSubject(input, facts), CHATBOT_LIMITS.summary),
      eventType: 'ExposedKeyReport',
      relatedResources: facts.keys.map((k) => k.result.accessKeyId).slice(0, 10),
      additionalContext: {
        incidentId: facts.incidentId,
        accountId: facts.accountId,
        severity: severityTag(facts.severity),
        containment: facts.containmentTag,
      },
      enableCustomActions: false,
    },
  };
}

/** The notification as the JSON string SNS carries to Chatbot. */
export function renderChatbot(input: ReportInput): string {
  return JSON.stringify(buildChatbotNotification(input));
}

function description(input: ReportInput, facts: ReportFacts): string {
  // Most important first; lines are added while they fit, then one line says where the rest is.
  const head: string[] = [];
  if (facts.drill) head.push('*DRILL*: an exercise, not a real leak.');
  for (const k of facts.keys.slice(0, 3)) {
    head.push(`*Key* ${code(k.result.accessKeyId, 30)} (${md(k.owner, 80)}): *${md(k.status, 260)}*`);
  }
  if (facts.keys.length > 3) head.push(`_${facts.keys.length - 3} more keys in the report_`);
  head.push(`*Attacker:* ${md(facts.verdict.text, 300)}`);
  head.push(`*Still there:* ${md(runningText(facts.resources, facts.coverage), 300)}`);
  const report = safeUrl(input.links.reportUrl);
  head.push(report ? `*Full report:* <${report}|open>` : '*Full report:* not stored');

  const body: string[] = [];
  if (facts.attacker.length) {
    body.push('', '*Most severe*');
    for (const f of facts.attacker.slice(0, LIST.findings)) {
      const on = findingResources(f, 2);
      body.push(
        `• ${f.severity.toUpperCase()}${f.failed ? ' (failed)' : ''} ${md(utc(f.eventTime))} ${md(f.region, 30)} ${code(f.eventName, 60)}: ${md(f.why, 200)}${on ? ` ${code(on, 100)}` : ''}`,
      );
    }
    if (facts.attacker.length > LIST.findings)
      body.push(`_${facts.attacker.length - LIST.findings} more in the report_`);
  }
  const remaining = facts.resources.remaining;
  if (remaining.length) {
    body.push('', '*What it left* (clean-up commands in the report)');
    for (const item of remaining.slice(0, LIST.resources)) {
      const cost = item.estimatedHourlyUsd ? `, ~${usd(item.estimatedHourlyUsd)}/h` : '';
      body.push(`• ${code(resourceName(item), 140)} ${md(item.region, 30)}${cost}`);
    }
    if (remaining.length > LIST.resources)
      body.push(`_${remaining.length - LIST.resources} more in the report_`);
  }
  body.push('', `*Could not see:* ${md(coverageLine(facts), 900)}`);
  body.push(
    `_Incident ${md(facts.incidentId, 80)}, account ${md(facts.accountId)}, ${md(utc(input.generatedAt))}_`,
  );

  const tail = '_... more in the full report_';
  const out: string[] = [];
  let size = 0;
  for (const line of [...head, ...body]) {
    const add = line.length + 1;
    if (size + add + tail.length + 1 > CHATBOT_LIMITS.description) {
      out.push(tail);
      break;
    }
    out.push(line);
    size += add;
  }
  return out.join('\n');
}

function coverageLine(facts: ReportFacts): string {
  const c = facts.coverage;
  const parts: string[] = [];
  if (c.activity.state === 'missing') parts.push('CloudTrail activity not collected');
  else if (c.activity.incomplete.length) {
    const names = c.activity.incomplete.slice(0, LIST.regions).map((r) => r.region);
    const extra = c.activity.incomplete.length > LIST.regions ? ', ...' : '';
    parts.push(
      `${plural(c.activity.incomplete.length, 'region')} not fully read (${names.join(', ')}${extra})`,
    );
  } else parts.push('all regions read');
  parts.push('management events only');
  parts.push(
    c.dataEvents.s3Recorded === true
      ? 'S3 data events recorded but not read'
      : 'S3 object reads cannot be ruled out',
  );
  parts.push(
    c.dataEvents.lambdaRecorded === true
      ? 'Lambda data events recorded but not read'
      : 'Lambda invocations cannot be ruled out',
  );
  if (c.inventory.incomplete.length)
    parts.push(`${plural(c.inventory.incomplete.length, 'inventory read')} incomplete`);
  if (c.missing.length) parts.push(`MISSING: ${c.missing.map((m) => m.part).join(', ')}`);
  return parts.join('; ');
}

// ------------------------------------------------------------------------------------------ SNS

export interface SnsReportMessage {
  Subject: string;
  Message: string;
  MessageStructure: 'json';
}

/**
 * One Publish for every subscriber, each getting its protocol's variant (SNS Publish, MessageStructure=json:
 * a key per protocol, `default` for any protocol without its own key):
 * - Chatbot subscribes to the topic with protocol `https` (endpoint global.sns-api.chatbot.amazonaws.com),
 *   so it reads the `https` key: the custom notification. `default` carries it too, so a Chatbot
 *   subscription still gets it if the `https` key were dropped, and SQS/Lambda subscribers get structured JSON.
 * - Email subscribers read the `email` key: the plain-text report. `Subject` is their subject line.
 * - SQS subscribers (a ticketing queue, the end-to-end tests) read the `sqs` key: the same text as the email,
 *   as they get for the containment alert.
 */
export function snsMessage(input: ReportInput): SnsReportMessage {
  const chat = renderChatbot(input);
  let maxBytes: number | undefined;
  for (;;) {
    const email = renderEmail(input, maxBytes === undefined ? {} : { maxBytes });
    const Message = JSON.stringify({ default: chat, https: chat, email: email.text, sqs: email.text });
    if (Buffer.byteLength(Message, 'utf8') <= SNS_MAX_BYTES - 4096 || (maxBytes ?? Infinity) < 4096) {
      return { Subject: email.subject, Message, MessageStructure: 'json' };
    }
    // Only reachable with text that JSON escapes heavily: shrink the email until the whole fits.
    maxBytes = Math.floor((maxBytes ?? Buffer.byteLength(email.text, 'utf8')) / 2);
  }
}

/**
 * A message that is text everywhere (the containment and failure alerts) as a Chatbot card too: without
 * the `https` variant Chatbot drops it silently, and the first, most urgent message would never reach chat.
 */
export function textWithCard(
  subject: string,
  text: string,
  card: { id: string; eventType: string; nextSteps?: string[] },
): SnsReportMessage {
  const lines = text.split('\n');
  const tail = '_... the rest is in the email_';
  const out: string[] = [];
  let size = 0;
  for (const line of lines) {
    const escaped = md(line, 500);
    if (size + escaped.length + 1 + tail.length > CHATBOT_LIMITS.description) {
      out.push(tail);
      break;
    }
    out.push(escaped);
    size += escaped.length + 1;
  }
  const notification: ChatbotNotification = {
    version: '1.0',
    source: 'custom',
    id: card.id,
    content: {
      textType: 'client-markdown',
      title: oneLine(subject, CHATBOT_LIMITS.title),
      description: out.join('\n'),
      nextSteps: (card.nextSteps ?? [])
        .slice(0, CHATBOT_LIMITS.nextSteps)
        .map((s) => md(s, CHATBOT_LIMITS.nextStep)),
      keywords: [],
    },
    metadata: {
      threadId: `exposed-key-${card.id}`,
      summary: oneLine(subject, CHATBOT_LIMITS.summary),
      eventType: card.eventType,
      relatedResources: [],
      additionalContext: { incidentId: card.id },
      enableCustomActions: false,
    },
  };
  const chat = JSON.stringify(notification);
  // The text goes three times (default, email, sqs): keep the whole under SNS's limit, whole lines only.
  const budget = Math.floor((SNS_MAX_BYTES - 8192 - Buffer.byteLength(chat, 'utf8')) / 3 / 2);
  const body = fitBytes(
    text.split('\n'),
    budget,
    '... cut here to fit the message size limit: the rest is in the state machine log.',
  );
  return {
    Subject: subject,
    Message: JSON.stringify({ default: body, email: body, sqs: body, https: chat }),
    MessageStructure: 'json',
  };
}
