/**
 * A shipped price table, so a report can say "these instances cost about $X an hour" without the Pricing
 * API (which needs its own permission, answers only in us-east-1 and ap-south-1, and is slow to page).
 * An order of magnitude is what a responder needs to decide what to stop first; the bill is the truth.
 */

/** When the table was compiled. Prices move (the June 2025 cut took ~33-44% off P4d and P5): re-check yearly. */
export const PRICE_TABLE_DATE = '2026-11-24';

export const PRICE_TABLE_SOURCE =
  'Approximate public list prices, USD per hour: EC2 On-Demand, Linux, shared tenancy, us-east-1 (AWS Price ' +
  'List, AmazonEC2 offer, as published mid-2026, after the June 2025 P4d/P5 reduction); Lightsail Linux ' +
  'bundles with a public IPv4 address (monthly price / 744 h, as Lightsail bills); SageMaker ML instances ' +
  'in us-east-1 (a few common types); Fargate Linux/x86 per vCPU-hour and GB-hour, us-east-1. Estimates, not quotes: Savings Plans, Spot, taxes and data transfer ' +
  'are not modelled.';

/** The Region the table's prices are for. */
export const PRICE_TABLE_REGION = 'us-east-1';

/**
 * EC2 On-Demand Linux, us-east-1. The general-purpose families are here because attackers run them in bulk
 * when GPU quota is zero; the accelerated ones because they are what they ask for first.
 */
const EC2: Record<string, number> = {
  't2.nano': 0.0058,
  't2.micro': 0.0116,
  't2.small': 0.023,
  't2.medium': 0.0464,
  't2.large': 0.0928,
  't2.xlarge': 0.1856,
  't2.2xlarge': 0.3712,
  't3.nano': 0.0052,
  't3.micro': 0.0104,
  't3.small': 0.0208,
  't3.medium': 0.0416,
  't3.large': 0.0832,
  't3.xlarge': 0.1664,
  't3.2xlarge': 0.3328,
  't3a.nano': 0.0047,
  't3a.micro': 0.0094,
  't3a.small': 0.0188,
  't3a.medium': 0.0376,
  't3a.large': 0.0752,
  't3a.xlarge': 0.1504,
  't3a.2xlarge': 0.3008,
  'm5.large': 0.096,
  'm5.xlarge': 0.192,
  'm5.2xlarge': 0.384,
  'm5.4xlarge': 0.768,
  'm5.8xlarge': 1.536,
  'm5.12xlarge': 2.304,
  'm5.16xlarge': 3.072,
  'm5.24xlarge': 4.608,
  'm6i.large': 0.096,
  'm6i.xlarge': 0.192,
  'm6i.2xlarge': 0.384,
  'm6i.4xlarge': 0.768,
  'm6i.8xlarge': 1.536,
  'm6i.12xlarge': 2.304,
  'm6i.16xlarge': 3.072,
  'm6i.24xlarge': 4.608,
  'm6i.32xlarge': 6.144,
  'c5.large': 0.085,
  'c5.xlarge': 0.17,
  'c5.2xlarge': 0.34,
  'c5.4xlarge': 0.68,
  'c5.9xlarge': 1.53,
  'c5.12xlarge': 2.04,
  'c5.18xlarge': 3.06,
  'c5.24xlarge': 4.08,
  'c6i.large': 0.085,
  'c6i.xlarge': 0.17,
  'c6i.2xlarge': 0.34,
  'c6i.4xlarge': 0.68,
  'c6i.8xlarge': 1.36,
  'c6i.12xlarge': 2.04,
  'c6i.16xlarge': 2.72,
  'c6i.24xlarge': 4.08,
  'c6i.32xlarge': 5.44,
  'r5.large': 0.126,
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'r5.4xlarge': 1.008,
  'r5.8xlarge': 2.016,
  'r5.12xlarge': 3.024,
  'r5.16xlarge': 4.032,
  'r5.24xlarge': 6.048,
  'g4dn.xlarge': 0.526,
  'g4dn.2xlarge': 0.752,
  'g4dn.4xlarge': 1.204,
  'g4dn.8xlarge': 2.176,
  'g4dn.12xlarge': 3.912,
  'g4dn.16xlarge': 4.352,
  'g4dn.metal': 7.824,
  'g5.xlarge': 1.006,
  'g5.2xlarge': 1.212,
  'g5.4xlarge': 1.624,
  'g5.8xlarge': 2.448,
  'g5.12xlarge': 5.672,
  'g5.16xlarge': 4.096,
  'g5.24xlarge': 8.144,
  'g5.48xlarge': 16.288,
  'g6.xlarge': 0.8048,
  'g6.2xlarge': 0.9776,
  'g6.4xlarge': 1.3232,
  'g6.8xlarge': 2.0144,
  'g6.12xlarge': 4.6016,
  'g6.16xlarge': 3.3968,
  'g6.24xlarge': 6.6752,
  'g6.48xlarge': 13.3504,
  'p3.2xlarge': 3.06,
  'p3.8xlarge': 12.24,
  'p3.16xlarge': 24.48,
  'p4d.24xlarge': 21.9576,
  'p4de.24xlarge': 27.4471,
  'p5.4xlarge': 6.88,
  'p5.48xlarge': 55.04,
  'p5en.48xlarge': 63.296,
  'inf1.xlarge': 0.228,
  'inf1.2xlarge': 0.362,
  'inf1.6xlarge': 1.18,
  'inf1.24xlarge': 4.721,
  'inf2.xlarge': 0.7582,
  'inf2.8xlarge': 1.9679,
  'inf2.24xlarge': 6.4906,
  'inf2.48xlarge': 12.9813,
};

/**
 * Lightsail Linux bundles with a public IPv4 address, USD per month (the current `_3_x` generation). Older
 * bundle ids (`_2_0`) are priced the same: since 2024 they pay for IPv4 too, so this is the closer figure.
 * Lightsail charges for a stopped instance as for a running one.
 */
const LIGHTSAIL_MONTHLY: Record<string, number> = {
  nano: 5,
  micro: 7,
  small: 12,
  medium: 24,
  large: 44,
  xlarge: 84,
  '2xlarge': 164,
};
/** Lightsail divides the monthly price by 744 hours (31 days) for its hourly rate. */
const LIGHTSAIL_HOURS_PER_MONTH = 744;

/** SageMaker ML instances (notebooks, training, hosting bill alike for these types), us-east-1. */
const SAGEMAKER: Record<string, number> = {
  'ml.t3.medium': 0.05,
  'ml.m5.xlarge': 0.23,
  'ml.c5.xlarge': 0.204,
  'ml.g4dn.xlarge': 0.7364,
  'ml.g5.xlarge': 1.408,
  'ml.p3.2xlarge': 3.825,
};

/** Fargate Linux/x86, us-east-1, USD per vCPU-hour and per GB-hour of memory. */
const FARGATE_VCPU_HOUR = 0.04048;
const FARGATE_GB_HOUR = 0.004445;

/**
 * The approximate hourly list price of a Fargate task from its size as ECS reports it (`cpu` in CPU units,
 * 1024 to a vCPU; `memory` in MiB), or undefined when either is missing or not a number.
 */
export function fargateHourlyUsd(cpu: string | undefined, memory: string | undefined): number | undefined {
  const units = Number(cpu);
  const mib = Number(memory);
  if (!cpu || !memory || !Number.isFinite(units) || !Number.isFinite(mib)) return undefined;
  return round4((units / 1024) * FARGATE_VCPU_HOUR + (mib / 1024) * FARGATE_GB_HOUR);
}

export type PricedService = 'ec2' | 'lightsail' | 'sagemaker';

/**
 * The approximate hourly list price of one `type` (EC2 instance type, Lightsail bundle id, SageMaker ML
 * instance type), or undefined when the table does not have it: a report should say "price unknown"
 * rather than show a guess.
 *
 * No Region multiplier is applied, on purpose: us-east-1 is among the cheapest Regions, so in another
 * Region the figure is a floor (most are 5-30% dearer, sa-east-1 and a few others more). A made-up
 * multiplier would look precise without being so. `region` is taken so callers need not change when a
 * per-Region table is shipped.
 */
export function hourlyUsd(service: PricedService, type: string, _region: string): number | undefined {
  switch (service) {
    case 'ec2':
      return EC2[type];
    case 'sagemaker':
      return SAGEMAKER[type];
    case 'lightsail': {
      const monthly = lightsailMonthlyUsd(type);
      return monthly === undefined ? undefined : round4(monthly / LIGHTSAIL_HOURS_PER_MONTH);
    }
  }
}

/** Bundle ids look like `small_3_0`; Windows (`small_win_3_0`) and IPv6-only bundles are priced differently: unknown here. */
function lightsailMonthlyUsd(bundleId: string): number | undefined {
  const match = /^([0-9]*[a-z]+)_\d+_\d+$/.exec(bundleId);
  return match ? LIGHTSAIL_MONTHLY[match[1]] : undefined;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
