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
import {
  bundleManifestKey,
  consoleLinks,
  presignReport,
  putText,
  reportKey,
  writeBundleManifest,
} from './evidence-bundle';
import { gatherReportInput, type ReportState } from './gather';
import { renderHtml } from './html';
import { renderSupportReply } from './support-reply';
import type { ReportInput } from './types';

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
  const gathered = await gatherReportInput(state, { s3, bucket, links, now });
  let report = gathered.input;
  if (gathered.unreadable.length)
    logger.warn('Some evidence could not be read', { unreadable: gathered.unreadable });

  let message = snsMessage(report);
  let stored: Awaited<ReturnType<typeof storeReport>> | undefined;
  try {
    stored = await storeReport(bucket, incidentId, report, message, now);
  } catch (error) {
    // The message matters more than the copy in S3: say what was not stored, without its dead links, and send.
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    logger.error('The report could not be stored; sending it anyway', { why });
    report = {
      ...report,
      links: {},
      missing: [...report.missing, { part: 'Stored report (HTML file, evidence manifest)', why }],
    };
    message = snsMessage(report);
  }
  const email = emailOf(message);

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
      stored
        ? 'The report is stored in the evidence bucket but was not sent.'
        : 'The report was neither stored nor sent.',
    );
  }
  return {
    sent: true,
    messageId,
    subject: message.Subject,
    ...(stored
      ? {
          reportKey: key,
          reportBytes: stored.reportBytes,
          manifestKey: stored.manifestKey,
          evidenceObjects: stored.evidenceObjects,
        }
      : {}),
    emailBytes: Buffer.byteLength(email, 'utf8'),
    snsBytes: Buffer.byteLength(message.Message, 'utf8'),
    missing: report.missing.map((m) => m.part),
  };
}

function emailOf(message: { Message: string }): string {
  return (JSON.parse(message.Message) as { email: string }).email;
}

/** The report files beside the evidence, then the manifest of the whole bundle. */
async function storeReport(
  bucket: string,
  incidentId: string,
  report: ReportInput,
  message: { Message: string },
  now: Date,
): Promise<{ reportBytes: number; manifestKey: string; evidenceObjects: number }> {
  const prefix = `${evidencePrefix(incidentId)}/report`;
  const utf8 = 'text/plain; charset=utf-8';
  const reportBytes = await putText(
    s3,
    bucket,
    reportKey(incidentId),
    renderHtml(report),
    'text/html; charset=utf-8',
  );
  await putText(s3, bucket, `${prefix}/email.txt`, emailOf(message), utf8);
  await putText(s3, bucket, `${prefix}/chatbot.json`, renderChatbot(report), 'application/json');
  await putText(s3, bucket, `${prefix}/support-reply.txt`, renderSupportReply(report), utf8);
  const manifest = await writeBundleManifest(s3, bucket, incidentId, now);
  return {
    reportBytes,
    manifestKey: bundleManifestKey(incidentId),
    evidenceObjects: manifest.objects.length + 1,
  };
}

/**
 * A retried step or a re-delivered notification never sends the same report twice. Keyed as the alert, plus
 * which investigation step failed (null when none): a complete report is never swallowed by the record of
 * an earlier partial one.
 */
const sendOnce = once(sendReport, {
  keyJmesPath:
    '[state.intake.incident.incidentId, state.intake.keys[].accessKeyId, state.error.Error, state.analysis.Error]',
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
