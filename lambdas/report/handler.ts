import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { evidencePrefix } from '../collect/evidence';
import { s3 } from '../shared/clients/s3';
import { sns } from '../shared/clients/sns';
import { env, required } from '../shared/env';
import { classifyAwsError } from '../shared/errors';
import { once } from '../shared/idempotency';
import { messageKind } from '../shared/message-kind';
import { logger } from '../shared/powertools';
import { renderChatbot, snsMessage } from './chatbot';
import { consoleLinks, presignReport, putText, reportKey, writeBundleManifest } from './evidence-bundle';
import { gatherReportInput, type ReportState } from './gather';
import { renderHtml } from './html';
import { renderSupportReply } from './support-reply';

export interface ReportStepInput {
  state: ReportState;
  executionId?: string;
}

export interface ReportOutput {
  sent: boolean;
  /** Why nothing was sent (an earlier incident already reported these keys). */
  skipped?: string;
  messageId?: string;
  subject?: string;
  reportKey?: string;
  reportBytes?: number;
  emailBytes?: number;
  snsBytes?: number;
  manifestKey?: string;
  evidenceObjects?: number;
  /** Parts the report says are missing. */
  missing?: string[];
}

async function sendReport(input: ReportStepInput): Promise<ReportOutput> {
  const { state } = input;
  if (state.alert?.sent === false) {
    // Every key was handled by an earlier incident: that incident reports, this one would repeat it.
    return { sent: false, skipped: 'every key was handled by an earlier incident, which reports it' };
  }
  const bucket = required('EVIDENCE_BUCKET');
  const incidentId = state.intake.incident.incidentId;
  const now = new Date();
  const key = reportKey(incidentId);
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const linkSeconds = env().REPORT_LINK_SECONDS;
  const links = {
    ...consoleLinks(bucket, region, incidentId),
    ...(linkSeconds > 0 ? await presignReport(s3, bucket, key, linkSeconds, now) : {}),
  };
  const { input: report, unreadable } = await gatherReportInput(state, { s3, bucket, links, now });
  if (unreadable.length) logger.warn('Some evidence could not be read', { unreadable });

  const html = renderHtml(report);
  const message = snsMessage(report);
  const email = (JSON.parse(message.Message) as { email: string }).email;
  const prefix = `${evidencePrefix(incidentId)}/report`;
  const reportBytes = await putText(s3, bucket, key, html, 'text/html; charset=utf-8');
  await putText(s3, bucket, `${prefix}/email.txt`, email, 'text/plain; charset=utf-8');
  await putText(s3, bucket, `${prefix}/chatbot.json`, renderChatbot(report), 'application/json');
  await putText(
    s3,
    bucket,
    `${prefix}/support-reply.txt`,
    renderSupportReply(report),
    'text/plain; charset=utf-8',
  );
  const manifest = await writeBundleManifest(s3, bucket, incidentId, now);

  let messageId: string;
  try {
    const out = await sns.send(
      new PublishCommand({
        TopicArn: required('ALERT_TOPIC_ARN'),
        ...message,
        MessageAttributes: messageKind('report'),
      }),
    );
    messageId = out.MessageId ?? '';
  } catch (error) {
    throw classifyAwsError(
      'sns:Publish',
      error,
      'The report is stored in the evidence bucket but was not sent.',
    );
  }
  return {
    sent: true,
    messageId,
    subject: message.Subject,
    reportKey: key,
    reportBytes,
    emailBytes: Buffer.byteLength(email, 'utf8'),
    snsBytes: Buffer.byteLength(message.Message, 'utf8'),
    manifestKey: `${evidencePrefix(incidentId)}/manifest.json`,
    evidenceObjects: manifest.objects.length + 1,
    missing: report.missing.map((m) => m.part),
  };
}

/** A retried step or a re-delivered notification never sends the same report twice (keyed as the alert). */
const sendOnce = once(sendReport, {
  keyJmesPath: '[state.intake.incident.incidentId, state.intake.keys[].accessKeyId]',
  keyPrefix: 'report',
});

/** The last step: the full report by email and chat, the HTML report and the evidence bundle in S3. */
export const handler = async (input: ReportStepInput, context?: Context): Promise<ReportOutput> => {
  if (context) logger.addContext(context);
  const out = await sendOnce(input, context);
  logger.info(out.sent ? 'Report sent' : 'No report needed', {
    incidentId: input.state.intake.incident.incidentId,
    ...out,
  });
  return out;
};
