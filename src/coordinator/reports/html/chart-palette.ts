/**
 * Colours of report.html's charts, in one place: saturated for data (so that a test can find a
 * chart's data among its pixels), light for shaded bands, grey and red for thresholds.
 */
export const PALETTE = {
  blue: '#1f77b4',
  orange: '#ff7f0e',
  green: '#2ca02c',
  red: '#d62728',
  purple: '#9467bd',
  brown: '#8c564b',
  pink: '#e377c2',
  grey: '#7f7f7f',
  olive: '#bcbd22',
  cyan: '#17becf',
} as const;

/** Series of error classes, most frequent first. */
export const ERROR_COLORS = ['#d62728', '#e6550d', '#a50f15', '#fb6a4a'] as const;

/** Percentile series over time: p50, p95, p99. */
export const PERCENTILE_COLORS = { p50: PALETTE.blue, p95: PALETTE.orange, p99: PALETTE.purple } as const;

export const BAND = {
  stable: 'rgba(44, 160, 44, 0.07)',
  unstable: 'rgba(214, 39, 40, 0.16)',
  warm: 'rgba(31, 119, 180, 0.14)',
} as const;
