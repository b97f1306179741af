/**
 * The timeline picture: time across, one lane per region, one mark per call. A mark's colour is its
 * category, its size its severity; a failed call is hollow. A dashed line marks AWS's detection and a solid
 * green one each key's deactivation, so activity after containment stands out at a glance.
 */
import type { Category, Severity } from '../analyze/types';
import { CATEGORY_ORDER, SEVERITIES, TIMELINE_MARKS } from '../analyze/types';
import { categoryLabel, type KeyState, utc } from './model';
import type { TimelineEvent } from './types';

/** Beyond this many marks the picture says how many it left out (the file stays a few MB at most). */
export const MAX_MARKS = TIMELINE_MARKS;

export const CATEGORY_COLOUR: Record<Category, string> = {
  persistence: '#c2255c',
  pivot: '#9c36b5',
  'privilege-escalation': '#e03131',
  'defense-evasion': '#5f3dc4',
  'organization-change': '#862e9c',
  'compute-hijacking': '#e8590c',
  'ses-abuse': '#f08c00',
  'credential-access': '#2f9e44',
  exfiltration: '#1971c2',
  'lateral-movement': '#0c8599',
  impact: '#495057',
  reconnaissance: '#868e96',
  'other-change': '#74b816',
  containment: '#212529',
};

export const SEVERITY_RADIUS: Record<Severity, number> = { critical: 7, high: 6, medium: 5, low: 4, info: 3 };

const FALLBACK_COLOUR = '#adb5bd';
const WIDTH = 960;
const LEFT = 130;
const RIGHT = 20;
const TOP = 40;
const LANE = 28;
const BOTTOM = 30;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const TICK_STEPS = [
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
  2 * 24 * HOUR,
  7 * 24 * HOUR,
  30 * 24 * HOUR,
];

/** HTML/XML escaping for text and attribute values alike. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export function colourOf(category: string): string {
  return CATEGORY_COLOUR[category as Category] ?? FALLBACK_COLOUR;
}

function radiusOf(severity: string): number {
  return SEVERITY_RADIUS[severity as Severity] ?? 3;
}

export interface TimelinePicture {
  svg: string;
  legend: string;
  drawn: number;
  omitted: number;
}

export function timelineSvg(
  events: (TimelineEvent & { eventId: string })[],
  keys: KeyState[],
  detectedAt: string,
): TimelinePicture {
  const drawnEvents = [...events].sort((a, b) => a.eventTime.localeCompare(b.eventTime)).slice(0, MAX_MARKS);
  const omitted = events.length - drawnEvents.length;
  const regions = [...new Set(drawnEvents.map((e) => e.region))].sort();
  if (regions.length === 0) regions.push('(no events)');

  const contained = keys
    .filter((k) => k.dead === true && k.deactivatedAt && !Number.isNaN(Date.parse(k.deactivatedAt)))
    .map((k) => ({ key: k.result.accessKeyId, at: Date.parse(k.deactivatedAt as string) }));
  const detected = Date.parse(detectedAt);
  const times = [
    ...drawnEvents.map((e) => Date.parse(e.eventTime)),
    ...contained.map((c) => c.at),
    ...(Number.isNaN(detected) ? [] : [detected]),
  ];
  let t0 = times.length ? Math.min(...times) : 0;
  let t1 = times.length ? Math.max(...times) : 60_000;
  if (t1 - t0 < 60_000) {
    t0 -= 30_000;
    t1 += 30_000;
  }
  const pad = (t1 - t0) * 0.02;
  t0 -= pad;
  t1 += pad;
  const plot = WIDTH - LEFT - RIGHT;
  const x = (t: number) => (LEFT + ((t - t0) / (t1 - t0)) * plot).toFixed(1);
  const height = TOP + regions.length * LANE + BOTTOM;
  const laneY = (i: number) => TOP + i * LANE + LANE / 2;

  const parts: string[] = [];
  parts.push(
    `<svg data-testid="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="Timeline of ${drawnEvents.length} calls across ${regions.length} regions">`,
  );
  // Axis: round ticks (every 10 s ... 7 days), the date shown when the span crosses days.
  const multiDay = new Date(t0).toISOString().slice(0, 10) !== new Date(t1).toISOString().slice(0, 10);
  const step = TICK_STEPS.find((ms) => (t1 - t0) / ms <= 8) ?? TICK_STEPS[TICK_STEPS.length - 1];
  parts.push('<g class="axis">');
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const iso = new Date(t).toISOString();
    const clock = step < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16);
    const label = multiDay ? `${iso.slice(5, 10)} ${clock}` : clock;
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${TOP - 4}" y2="${height - BOTTOM}" stroke="#e9ecef"/>`,
      `<text x="${x(t)}" y="${height - BOTTOM + 16}" text-anchor="middle" font-size="11" fill="#495057">${esc(label)}</text>`,
    );
  }
  parts.push(
    `<text x="${LEFT - 8}" y="${height - BOTTOM + 16}" text-anchor="end" font-size="11" fill="#495057">UTC</text>`,
    '</g>',
  );

  regions.forEach((region, i) => {
    const y = laneY(i);
    const lane = drawnEvents.filter((e) => e.region === region);
    parts.push(`<g data-region="${esc(region)}">`);
    parts.push(
      `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y}" y2="${y}" stroke="#dee2e6"/>`,
      `<text x="${LEFT - 8}" y="${y + 4}" text-anchor="end" font-size="12" fill="#212529">${esc(region)}</text>`,
    );
    for (const e of lane) {
      const colour = colourOf(e.category);
      const fill = e.failed === true ? 'none' : colour;
      parts.push(
        `<circle data-event-id="${esc(e.eventId)}" data-category="${esc(e.category)}" data-severity="${esc(e.severity)}" data-failed="${e.failed === true}" cx="${x(Date.parse(e.eventTime))}" cy="${y}" r="${radiusOf(e.severity)}" fill="${fill}" stroke="${colour}" stroke-width="${e.failed ? 1.5 : 0.75}" fill-opacity="0.85"><title>${esc(
          `${utc(e.eventTime)} ${e.eventName} (${categoryLabel(e.category)}, ${e.severity}${e.failed ? ', failed' : ''})`,
        )}</title></circle>`,
      );
    }
    parts.push('</g>');
  });

  // Labels above the plot, on two rows so the two lines' labels never collide.
  const label = (at: number, y: number, text: string, colour: string) => {
    const near = Number(x(at)) > WIDTH - 160;
    return `<text x="${(Number(x(at)) + (near ? -4 : 4)).toFixed(1)}" y="${y}" text-anchor="${near ? 'end' : 'start'}" font-size="11" fill="${colour}">${esc(text)}</text>`;
  };
  if (!Number.isNaN(detected)) {
    parts.push(
      `<line data-testid="detected" x1="${x(detected)}" x2="${x(detected)}" y1="6" y2="${height - BOTTOM}" stroke="#1c7ed6" stroke-width="1.5" stroke-dasharray="4 3"><title>${esc(`AWS detected the exposure ${utc(detectedAt)}`)}</title></line>`,
      label(detected, 14, 'AWS detected', '#1c7ed6'),
    );
  }
  contained.forEach((c, i) => {
    parts.push(
      `<line data-testid="containment" data-key="${esc(c.key)}" x1="${x(c.at)}" x2="${x(c.at)}" y1="18" y2="${height - BOTTOM}" stroke="#2b8a3e" stroke-width="2.5"><title>${esc(`Key ${c.key} deactivated ${utc(new Date(c.at).toISOString())}`)}</title></line>`,
      i === 0
        ? label(c.at, 28, contained.length > 1 ? 'keys deactivated' : 'key deactivated', '#2b8a3e')
        : '',
    );
  });
  parts.push('</svg>');

  return { svg: parts.join(''), legend: legend(drawnEvents), drawn: drawnEvents.length, omitted };
}

function legend(events: TimelineEvent[]): string {
  const present = new Set(events.map((e) => e.category));
  const categories = CATEGORY_ORDER.filter((c) => present.has(c));
  const unknown = [...present].filter((c) => !CATEGORY_ORDER.includes(c as Category));
  const swatch = (colour: string, hollow = false, r = 5) =>
    `<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="${r}" fill="${hollow ? 'none' : colour}" stroke="${colour}" stroke-width="1.5"/></svg>`;
  const items = [
    ...categories.map((c) => `<span>${swatch(colourOf(c))}${esc(categoryLabel(c))}</span>`),
    ...unknown.map((c) => `<span>${swatch(FALLBACK_COLOUR)}${esc(c)}</span>`),
  ];
  const sizes = SEVERITIES.map((s) => `<span>${swatch('#495057', false, radiusOf(s))}${s}</span>`);
  return [
    '<div class="legend" data-testid="legend">',
    `<div><strong>Colour: category</strong> ${items.join(' ') || '<span>none</span>'}</div>`,
    `<div><strong>Size: severity</strong> ${sizes.join(' ')}</div>`,
    `<div><span>${swatch('#495057')}succeeded</span> <span>${swatch('#495057', true)}failed (hollow)</span>`,
    ' <span><svg width="22" height="14" aria-hidden="true"><line x1="11" x2="11" y1="0" y2="14" stroke="#1c7ed6" stroke-width="1.5" stroke-dasharray="4 3"/></svg>AWS detected</span>',
    ' <span><svg width="22" height="14" aria-hidden="true"><line x1="11" x2="11" y1="0" y2="14" stroke="#2b8a3e" stroke-width="2.5"/></svg>key deactivated</span></div>',
    '</div>',
  ].join('');
}
