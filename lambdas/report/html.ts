/**
 * The full report: one self-contained HTML file (inline CSS and SVG, no script, no external asset) that
 * opens from S3, a mail attachment or a laptop offline, and reads well printed or forwarded to a CISO.
 *
 * Everything shown passes through `esc`: user agents, resource names and error messages are the attacker's
 * words. A Content-Security-Policy that allows no script backs that up, and links are http(s) only.
 */
import { actionLine } from '../alert/render';
import { type Finding, type SeenCount, TIMELINE_MARKS } from '../analyze/types';
import { linkExpiry, reportSubject } from './email';
import {
  categoryLabel,
  isManifest,
  oneLine,
  plural,
  type ReportFacts,
  reportFacts,
  runningText,
  safeUrl,
  severityTag,
  timelineEvents,
  usd,
  utc,
} from './model';
import { renderSupportReply } from './support-reply';
import { colourOf, esc, timelineSvg } from './timeline-svg';
import type { ReportInput, ReportInventoryItem } from './types';

export const HTML_CAPS = { findings: 2000, items: 1000, seen: 100, pivots: 200, actions: 50 };

const SEVERITY_COLOUR: Record<string, string> = {
  critical: '#b00020',
  high: '#d9480f',
  medium: '#e67700',
  low: '#1c7ed6',
  info: '#868e96',
  none: '#2b8a3e',
  unknown: '#495057',
};

const CSS = `
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#212529;margin:0;background:#f8f9fa}
main{max-width:1100px;margin:0 auto;padding:16px}
header.banner{color:#fff;padding:16px 20px;border-radius:6px}
header.banner h1{margin:0 0 4px;font-size:20px}
header.banner p{margin:0;opacity:.9}
h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #dee2e6;padding-bottom:4px}
h3{font-size:14px;margin:16px 0 6px}
section{background:#fff;border-radius:6px;padding:4px 16px 12px;margin-top:14px}
.glance{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:10px;margin-top:14px}
.card{background:#fff;border-radius:6px;padding:10px 12px;border-left:6px solid #adb5bd}
.card h3{margin:0 0 4px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#495057}
.card p{margin:0;font-weight:600}
.card.good{border-color:#2b8a3e}.card.bad{border-color:#b00020}.card.warn{border-color:#e67700}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;vertical-align:top;padding:4px 6px;border-bottom:1px solid #e9ecef}
th{background:#f1f3f5;position:sticky;top:0}
td.num{text-align:right;white-space:nowrap}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;word-break:break-all;background:#f1f3f5;padding:6px 8px;border-radius:4px;margin:2px 0}
code{word-break:break-all}
.sev{display:inline-block;color:#fff;border-radius:3px;padding:0 5px;font-size:11px;font-weight:700;text-transform:uppercase}
.failed{color:#868e96;font-style:italic}
.alarm{color:#b00020;font-weight:700}
.missing{background:#fff4e6;border-left:4px solid #e67700;padding:6px 10px;margin:6px 0}
.legend{font-size:12px;color:#495057;margin:6px 0}
.legend span{display:inline-flex;align-items:center;gap:3px;margin-right:10px}
.legend svg{vertical-align:middle}
.note{color:#495057;font-size:12px}
footer{color:#868e96;font-size:12px;margin:20px 0}
@media print{body{background:#fff}section{padding:0}th{position:static}}
`;

export function renderHtml(input: ReportInput): string {
  const facts = reportFacts(input);
  const title = reportSubject(input, facts);
  const body = [
    banner(input, facts),
    glance(input, facts),
    timelineSection(input, facts),
    findingsSection(input, facts),
    inventorySection(input, facts),
    sourcesSection(input),
    pivotsSection(input),
    responderSection(input, facts),
    coverageSection(input, facts),
    supportSection(input),
    linksSection(input),
    `<footer>Incident ${esc(facts.incidentId)}, generated ${esc(utc(input.generatedAt))} by exposed-key-responder. Times are UTC.</footer>`,
  ].join('\n');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body><main>',
    body,
    '</main></body></html>',
  ].join('\n');
}

// ------------------------------------------------------------------------------------------ helpers

function table(headers: string[], rows: string[][]): string {
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  return `<table><thead>${head}</thead><tbody>${rows.map((r) => `<tr>${r.map((c) => (c.startsWith('<td') ? c : `<td>${c}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
}

function more(total: number, shown: number, what: string): string {
  return total > shown
    ? `<p class="note">... and ${esc((total - shown).toLocaleString('en-US'))} more ${esc(what)} in the evidence bucket.</p>`
    : '';
}

function link(url: string | undefined, text: string): string {
  const safe = safeUrl(url);
  return safe
    ? `<a href="${esc(safe)}" rel="noopener noreferrer" target="_blank">${esc(text)}</a>`
    : esc(text);
}

function sev(severity: string): string {
  return `<span class="sev" style="background:${SEVERITY_COLOUR[severity] ?? '#495057'}">${esc(severity)}</span>`;
}

function missingNote(what: string): string {
  return `<p class="missing"><strong>Not available:</strong> ${esc(what)}</p>`;
}

function section(id: string, title: string, content: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${content}</section>`;
}

// ------------------------------------------------------------------------------------------ sections

function banner(input: ReportInput, facts: ReportFacts): string {
  const colour = SEVERITY_COLOUR[facts.severity] ?? '#495057';
  const keyPart =
    facts.keys.length === 1
      ? `key ${facts.keys[0].result.accessKeyId}`
      : plural(facts.keys.length, 'leaked key');
  return [
    `<header class="banner" style="background:${facts.allDead ? colour : '#b00020'}">`,
    `<h1>${facts.drill ? 'DRILL: ' : ''}Leaked ${esc(keyPart)}: ${esc(severityTag(facts.severity))}, ${esc(facts.containmentTag)}</h1>`,
    `<p>Account ${esc(facts.accountId)} · incident ${esc(facts.incidentId)} · ${esc(oneLine(input.incident.eventTypeCode, 60))} detected ${esc(utc(input.incident.detectedAt))}${input.incident.exposedUrl ? ` · exposed at ${esc(oneLine(input.incident.exposedUrl, 200))}` : ''}</p>`,
    '</header>',
  ].join('');
}

function glance(_input: ReportInput, facts: ReportFacts): string {
  const keyCls = facts.allDead ? 'good' : 'bad';
  const keyText = facts.keys.length
    ? facts.keys
        .slice(0, 5)
        .map((k) => `${esc(k.result.accessKeyId)} (${esc(k.owner)}): ${esc(k.status)}`)
        .join('<br>')
    : 'No key was contained.';
  const v = facts.verdict.answer;
  const attackerCls = v === 'yes' || v === 'unknown' ? 'bad' : v === 'no' ? 'good' : 'warn';
  const r = facts.resources;
  const runCls = r.state === 'missing' || r.remaining.length ? 'bad' : 'good';
  const steps = facts.steps
    .slice(0, 4)
    .map((s) => `<li>${esc(s.text)}</li>`)
    .join('');
  return [
    '<div class="glance" id="glance">',
    `<div class="card ${keyCls}"><h3>Is the key dead?</h3><p>${keyText}</p></div>`,
    `<div class="card ${attackerCls}"><h3>Did the attacker do anything?</h3><p>${esc(facts.verdict.text)}</p></div>`,
    `<div class="card ${runCls}"><h3>What is still there, at what cost?</h3><p>${esc(runningText(r, facts.coverage))}</p></div>`,
    `<div class="card warn"><h3>What to do now</h3><ol>${steps}</ol></div>`,
    '</div>',
    facts.coverage.missing.length
      ? `<p class="missing"><strong>Incomplete report.</strong> Missing: ${facts.coverage.missing.map((m) => `${esc(m.part)} (${esc(m.why)})`).join('; ')}.</p>`
      : '',
  ].join('');
}

function timelineSection(input: ReportInput, facts: ReportFacts): string {
  const events = timelineEvents(input);
  const picture = timelineSvg(events, facts.keys, input.incident.detectedAt);
  const basis = input.timelineEvents
    ? `${plural(picture.drawn, 'call')} made with the key and the credentials it minted.`
    : input.analysis
      ? `${plural(picture.drawn, 'finding')} (every call was not available: only findings are drawn).`
      : 'No events: the activity was not analyzed.';
  const moments = facts.moments
    .map(
      (m) =>
        `<tr><td class="num">${esc(utc(m.at))}</td><td>${esc(m.who)}</td><td${m.alarm ? ' class="alarm"' : ''}>${esc(m.text)}</td></tr>`,
    )
    .join('');
  return section(
    'timeline',
    'Timeline',
    [
      `<p class="note">${esc(basis)} One lane per region; hover a mark for the call.</p>`,
      picture.svg,
      picture.legend,
      picture.omitted ? `<p class="note">${esc(plural(picture.omitted, 'later call'))} not drawn.</p>` : '',
      input.timelineOmitted
        ? `<p class="note">${esc(plural(input.timelineOmitted, 'call'))} from the middle of the activity not drawn: the picture keeps the first and the last ${esc(TIMELINE_MARKS / 2)}; every call is in the evidence.</p>`
        : '',
      '<h3>Key moments</h3>',
      `<table><thead><tr><th>Time (UTC)</th><th>Who</th><th>What</th></tr></thead><tbody>${moments}</tbody></table>`,
    ].join(''),
  );
}

function findingsSection(input: ReportInput, facts: ReportFacts): string {
  if (!input.analysis) return section('findings', 'Findings', missingNote('the activity was not analyzed.'));
  const { summary, findings } = input.analysis;
  const verdictRows = (summary.verdict ?? [])
    .filter((l) => l.category !== 'containment')
    .map((l) => [
      esc(l.question),
      `<strong>${esc(l.answer)}</strong>`,
      `<td class="num">${esc(l.findings)}</td>`,
      `<td class="num">${esc(l.failed)}</td>`,
      l.highestSeverity ? sev(l.highestSeverity) : '',
      esc(l.firstSeen ? utc(l.firstSeen) : ''),
    ]);
  const attacker = facts.attacker;
  const others = findings.filter((f) => f.actor !== 'attacker');
  const rows = attacker.slice(0, HTML_CAPS.findings).map(findingRow);
  const stats = `${plural(summary.records?.analyzed ?? 0, 'event')} analyzed, ${plural(attacker.length, 'attacker finding')}${
    summary.findings?.omitted
      ? `, ${plural(summary.findings.omitted, 'low-severity finding')} counted but not kept`
      : ''
  }; ${summary.firstUse ? `first call ${utc(summary.firstUse)}, last ${utc(summary.lastUse)}` : 'no call by the attacker'}; ${Math.round((summary.errorRatio ?? 0) * 100)}% of its calls failed.`;
  return section(
    'findings',
    'Findings',
    [
      `<p>${esc(stats)}</p>`,
      verdictRows.length
        ? `<h3>The answer, in order of danger</h3>${table(['Question', 'Answer', 'Findings', 'Failed', 'Worst', 'First seen'], verdictRows)}`
        : '',
      '<h3>What the attacker did, most severe first</h3>',
      rows.length
        ? table(['Severity', 'Time (UTC)', 'Region', 'Call', 'Category', 'Why', 'Do'], rows)
        : '<p>No finding.</p>',
      more(attacker.length, HTML_CAPS.findings, 'findings'),
      others.length
        ? `<h3>AWS and responder actions seen in CloudTrail</h3>${table(
            ['Time (UTC)', 'Who', 'Region', 'Call', 'Why'],
            others
              .slice(0, HTML_CAPS.actions)
              .map((f) => [
                esc(utc(f.eventTime)),
                esc(f.actor),
                esc(f.region),
                `<code>${esc(f.eventName)}</code>`,
                esc(f.why),
              ]),
          )}${more(others.length, HTML_CAPS.actions, 'actions')}`
        : '',
    ].join(''),
  );
}

function findingRow(f: Finding): string[] {
  const resources = (f.resources ?? []).map((r) => `<code>${esc(r)}</code>`).join(', ');
  return [
    `${sev(f.severity)}${f.failed ? ' <span class="failed">failed</span>' : ''}`,
    `<td class="num">${esc(utc(f.eventTime))}</td>`,
    esc(f.region),
    `<code>${esc(f.eventSource)}</code><br><code>${esc(f.eventName)}</code><br><span class="note">${esc(f.technique)} · ${esc(f.eventId)}</span>`,
    `<span style="color:${colourOf(f.category)}">&#9679;</span> ${esc(categoryLabel(f.category))}`,
    `${esc(f.why)}${resources ? `<br>On: ${resources}` : ''}`,
    esc(f.todo),
  ];
}

function inventorySection(input: ReportInput, facts: ReportFacts): string {
  if (!input.inventory) {
    return section(
      'inventory',
      'What the attacker left',
      missingNote('the inventory did not run: what exists now is unknown.'),
    );
  }
  const r = facts.resources;
  const itemRows = (items: ReportInventoryItem[]) =>
    items
      .slice(0, HTML_CAPS.items)
      .map((i) => [
        `<code>${esc(i.service)}</code> ${esc(i.type)}<br><code>${esc(i.id)}</code>${i.arn ? `<br><span class="note">${esc(i.arn)}</span>` : ''}`,
        esc(i.region),
        `<td class="num">${esc(i.createdAt ? utc(i.createdAt) : '')}</td>`,
        `${esc(i.createdByKey === true ? 'yes' : i.createdByKey === false ? 'no' : 'unknown')}${i.evidenceEventId ? `<br><span class="note">${esc(i.evidenceEventId)}</span>` : ''}`,
        `<td class="num">${i.estimatedHourlyUsd ? esc(usd(i.estimatedHourlyUsd)) : ''}</td>`,
        `<pre>${esc(i.cleanup)}</pre>`,
        link(i.consoleUrl, 'console'),
      ]);
  const headers = [
    'Resource',
    'Region',
    'Created',
    'By the key',
    '$/hour',
    'Clean-up (review, then run)',
    'Open',
  ];
  const gone = r.attacker.filter((i) => !r.remaining.includes(i));
  const total =
    r.hourlyUsd > 0 ? `about ${usd(r.hourlyUsd)}/hour, ${usd(r.hourlyUsd * 24)}/day` : 'no priced compute';
  return section(
    'inventory',
    'What the attacker left',
    [
      `<p><strong>${esc(plural(r.remaining.length, 'resource'))} made or changed by the key still there, ${esc(total)}.</strong> Prices are list-price estimates; the bill is the truth.</p>`,
      r.remaining.length ? table(headers, itemRows(r.remaining)) : '',
      more(r.remaining.length, HTML_CAPS.items, 'resources'),
      r.unknown.length
        ? `<h3>Found, origin unknown: review before removing (${r.unknown.length})</h3>${table(headers, itemRows(r.unknown))}${more(r.unknown.length, HTML_CAPS.items, 'resources')}`
        : '',
      gone.length
        ? `<h3>Made by the key, already gone (${gone.length})</h3>${table(headers, itemRows(gone))}${more(gone.length, HTML_CAPS.items, 'resources')}`
        : '',
    ].join(''),
  );
}

function seenTable(title: string, list: SeenCount[] | undefined): string {
  if (!list?.length) return `<h3>${esc(title)}</h3><p>None seen.</p>`;
  const rows = list
    .slice(0, HTML_CAPS.seen)
    .map((s) => [
      `<code>${esc(s.value)}</code>`,
      `<td class="num">${esc(s.count)}</td>`,
      esc(utc(s.firstSeen)),
      esc(utc(s.lastSeen)),
    ]);
  return `<h3>${esc(title)}</h3>${table(['Value', 'Calls', 'First seen', 'Last seen'], rows)}${more(list.length, HTML_CAPS.seen, 'values')}`;
}

function sourcesSection(input: ReportInput): string {
  const summary = input.analysis?.summary;
  if (!summary)
    return section('sources', 'Source IPs and user agents', missingNote('the activity was not analyzed.'));
  return section(
    'sources',
    'Source IPs and user agents',
    [
      '<p class="note">As CloudTrail recorded them for the attacker\'s calls: the user agent is whatever the caller sent.</p>',
      seenTable('Source IP addresses', summary.sourceIps),
      seenTable('User agents', summary.userAgents),
      summary.truncated?.length
        ? `<p class="note">Tables cut at their cap: ${esc(summary.truncated.join(', '))}.</p>`
        : '',
    ].join(''),
  );
}

function pivotsSection(input: ReportInput): string {
  const parts: string[] = [];
  const pivots = input.analysis?.summary.pivotKeys ?? [];
  if (pivots.length) {
    parts.push(
      '<h3>Credentials the key minted</h3>',
      table(
        ['Key', 'Kind', 'Via', 'When', 'Principal', 'Expires'],
        pivots
          .slice(0, HTML_CAPS.pivots)
          .map((p) => [
            `<code>${esc(p.accessKeyId)}</code>`,
            esc(p.kind),
            `<code>${esc(p.via)}</code>`,
            esc(utc(p.eventTime)),
            esc(p.principal ?? ''),
            esc(p.expiration ? utc(p.expiration) : ''),
          ]),
      ),
      more(pivots.length, HTML_CAPS.pivots, 'keys'),
    );
  }
  const activity = input.activity;
  if (isManifest(activity)) {
    const followed = activity.keys.filter((k) => k.source === 'pivot');
    parts.push(
      `<p>${esc(plural(activity.keys.length, 'key'))} collected in ${esc(plural(activity.rounds, 'round'))}: ${esc(plural(followed.length, 'pivot'))} followed.${activity.truncated ? ' <strong>Some minted keys were not followed: the limit was reached.</strong>' : ''}</p>`,
    );
    if (activity.rolesAssumed.length) {
      parts.push(
        '<h3>Roles assumed (their sessions need revoking)</h3>',
        table(
          ['Role', 'Session key', 'Assumed with', 'When'],
          activity.rolesAssumed
            .slice(0, HTML_CAPS.pivots)
            .map((r) => [
              `<code>${esc(r.roleArn)}</code>`,
              `<code>${esc(r.sessionKey)}</code>`,
              `<code>${esc(r.assumedWith)}</code>`,
              esc(utc(r.eventTime)),
            ]),
        ),
      );
    }
  }
  if (!parts.length) {
    parts.push(
      input.analysis || isManifest(activity)
        ? '<p>None: the key minted no credential seen.</p>'
        : missingNote('no activity was collected.'),
    );
  }
  return section('pivots', 'Pivots', parts.join(''));
}

function responderSection(input: ReportInput, facts: ReportFacts): string {
  const parts = facts.keys.map((k) => {
    const r = k.result;
    const actions = r.actions
      .slice(0, HTML_CAPS.actions)
      .map((a) => `<li><code>${esc(actionLine(a))}</code></li>`);
    return [
      `<h3><code>${esc(r.accessKeyId)}</code> (${esc(k.owner)}): ${esc(r.decision)}</h3>`,
      `<p>${esc(r.reason)}${r.error ? ` <strong>${esc(r.error)}</strong> ${esc(r.cause ?? '')}` : ''}</p>`,
      actions.length ? `<ul>${actions.join('')}</ul>` : '<p>No action taken.</p>',
      r.otherKeys?.length
        ? `<p>Left alone: ${r.otherKeys.map((o) => `<code>${esc(o.accessKeyId)}</code> (${esc(o.status)})`).join(', ')}</p>`
        : '',
      r.manualSteps?.length
        ? `<p><strong>You must:</strong></p><ol>${r.manualSteps.map((s) => `<li>${esc(s)}</li>`).join('')}</ol>`
        : '',
    ].join('');
  });
  const dup = input.containment.filter((r) => r.duplicateOf);
  if (dup.length) {
    parts.push(
      `<p>Handled by an earlier incident: ${dup.map((d) => `<code>${esc(d.accessKeyId)}</code> (${esc(d.duplicateOf)})`).join(', ')}.</p>`,
    );
  }
  if (input.intake.rejected.length) {
    parts.push(
      `<p>Not acted on: ${input.intake.rejected.map((r) => `<code>${esc(r.value || '(empty)')}</code>: ${esc(r.reason)}`).join('; ')}.</p>`,
    );
  }
  return section('responder', 'What the responder did', parts.join('') || '<p>Nothing.</p>');
}

function coverageSection(input: ReportInput, facts: ReportFacts): string {
  const c = facts.coverage;
  const parts: string[] = [`<p>${esc(c.activity.text)}</p>`];
  const activity = input.activity;
  if (isManifest(activity) && activity.regions.length) {
    // Folded when every region was read: 38 rows of "yes" would push the rest off the screen.
    const incomplete = activity.regions.filter((r) => !r.complete).length;
    parts.push(
      `<details${incomplete ? ' open' : ''}><summary>Per region: ${esc(activity.regions.length)} read, ${esc(incomplete)} incomplete</summary>`,
      table(
        ['Region', 'Events', 'Pages', 'Complete', 'Why not'],
        [...activity.regions]
          .sort((a, b) => Number(a.complete) - Number(b.complete) || a.region.localeCompare(b.region))
          .map((r) => [
            esc(r.region),
            `<td class="num">${esc(r.events)}</td>`,
            `<td class="num">${esc(r.pages)}</td>`,
            r.complete ? 'yes' : '<strong class="alarm">no</strong>',
            esc(r.errors.join('; ')),
          ]),
      ),
      '</details>',
    );
  }
  parts.push(
    '<ul>',
    `<li>${esc(c.managementOnly)}</li>`,
    `<li>${esc(c.dataEvents.s3)}</li>`,
    `<li>${esc(c.dataEvents.lambda)}</li>`,
    `<li>${esc(c.inventory.text)}</li>`,
    '</ul>',
  );
  if (c.inventory.incomplete.length) {
    parts.push(
      table(
        ['Service', 'Region', 'Why not complete'],
        c.inventory.incomplete.map((g) => [esc(g.service), esc(g.region), esc(g.why)]),
      ),
    );
  }
  for (const m of c.missing)
    parts.push(`<p class="missing"><strong>Missing: ${esc(m.part)}.</strong> ${esc(m.why)}</p>`);
  return section('coverage', 'What this report could not see', parts.join(''));
}

function supportSection(input: ReportInput): string {
  return section(
    'support-reply',
    "Draft reply to AWS's support case",
    `<p class="note">Review, fill in the bracketed parts, and send within five days of the notification.</p><pre>${esc(renderSupportReply(input))}</pre>`,
  );
}

function linksSection(input: ReportInput): string {
  const l = input.links;
  const items = [
    l.reportUrl ? `<li>${link(l.reportUrl, 'This report')}</li>` : '',
    l.evidenceConsoleUrl ? `<li>${link(l.evidenceConsoleUrl, 'Evidence in the S3 console')}</li>` : '',
    l.presignedUrl
      ? `<li>${link(l.presignedUrl, 'Download link')} (anyone with it can read the report${esc(linkExpiry(l))})</li>`
      : '',
  ].join('');
  return section(
    'links',
    'Links',
    items ? `<ul>${items}</ul>` : missingNote('the report and evidence were not stored.'),
  );
}
