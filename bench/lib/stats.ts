/** Summary statistics of raw samples: median with min/max, percentiles, ratios of medians. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function sorted(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new Error('stats: no samples');
  return [...samples].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  const s = sorted(samples);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}

export function median(samples: readonly number[]): number {
  const s = sorted(samples);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const s = sorted(samples);
  return { n: s.length, median: median(s), min: s[0], max: s[s.length - 1] };
}

/** Ratio of two medians, rounded to 3 decimals. */
export function ratio(value: number, baseline: number): number {
  if (!(baseline > 0)) return Number.NaN;
  return Math.round((value / baseline) * 1000) / 1000;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
