/** Nearest-rank percentile of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** The bench's output format: one `name: value` line per figure. */
export function report(name: string, value: number | string, digits = 1): void {
  const text =
    typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(digits)) : value;
  process.stdout.write(`${name}: ${text}\n`);
}
