/**
 * Latency distributions of the whole phase (e2e, TTFT, ITL, TPOT) as HdrHistogram plots them:
 * latency against percentile on an axis of "nines" (-log10(1 - p)), so that 90 %, 99 % and 99.9 %
 * are evenly spaced and the tail is as wide as the body. p50, p90 and p99 are marked; criteria on
 * a percentile are short lines at that percentile.
 */
import type { Summary } from '../../../shared/phase-metrics';
import type { Distribution } from '../../../shared/phase-timeline';
import { formatValue } from '../../../shared/units';
import type { ChartSpec, PointSpec, SeriesSpec } from './chart-spec';
import { PALETTE } from './chart-palette';
import { rounded } from './chart-values';
import { criterionLines } from './criterion-lines';
import { chartId, type ChartOutcome, type PhaseChartInput } from './phase-chart-input';

const LATENCIES = [
  { key: 'e2e', label: 'e2e', color: PALETTE.blue },
  { key: 'ttft', label: 'TTFT', color: PALETTE.orange },
  { key: 'itl', label: 'ITL', color: PALETTE.green },
  { key: 'tpot', label: 'TPOT', color: PALETTE.purple },
] as const;

const MARKED = [50, 90, 99] as const;
/** Where the maximum goes: past the last finite percentile. */
const MAX_GAP = 0.5;
/** Half the width of a criterion's segment, in nines. */
const SEGMENT = 0.15;
/** Spread (max / min) beyond which the latency axis is logarithmic. */
const LOG_SPREAD = 30;

/** Percentile (0..100) -> nines: 90 -> 1, 99 -> 2. */
const nines = (percentile: number) => rounded(-Math.log10(1 - percentile / 100), 4);

function percentileLabel(x: number): string {
  if (x === 0) return '0 %';
  const percent = 100 * (1 - 10 ** -x);
  return `${Number(percent.toPrecision(Math.max(2, Math.ceil(x) + 1)))} %`;
}

/** Ticks at 50 %, 90 %, 99 %, ... up to the tail, and "max" (0 % would crowd 50 %: the curve's left end is the minimum). */
function ticks(lastFinite: number, maxX: number): Array<[number, string]> {
  const marks: Array<[number, string]> = [[nines(50), '50 %']];
  for (let x = 1; x <= lastFinite + 1e-9; x++) marks.push([x, percentileLabel(x)]);
  marks.push([maxX, 'max']);
  return marks;
}

/** The four distributions on one x grid: the union of their percentiles, null where one has none. */
function aligned(distributions: Array<{ points: Distribution }>, maxX: number): { x: number[]; values: Array<Array<number | null>> } {
  const xOf = (percentile: number) => (percentile >= 100 ? maxX : nines(percentile));
  const x = [...new Set(distributions.flatMap(({ points }) => points.map(([percentile]) => xOf(percentile))))].sort((a, b) => a - b);
  const values = distributions.map(({ points }) => {
    const byX = new Map(points.map(([percentile, ms]) => [xOf(percentile), rounded(ms)]));
    return x.map((at) => byX.get(at) ?? null);
  });
  return { x, values };
}

function markedPoints(summary: Summary | null, maxX: number, color: string): PointSpec[] {
  if (!summary) return [];
  const at: Record<(typeof MARKED)[number], number> = { 50: summary.p50, 90: summary.p90, 99: summary.p99 };
  return MARKED.map((percentile) => ({ x: nines(percentile), y: rounded(at[percentile]), color, label: '' })).filter(
    (point) => point.x <= maxX,
  );
}

function caption(input: PhaseChartInput, drawn: Array<{ label: string; summary: Summary | null }>): string {
  const values = drawn
    .filter(({ summary }) => summary !== null)
    .map(
      ({ label, summary }) => `${label} ${[summary?.p50, summary?.p90, summary?.p99].map((v) => formatValue('duration', v)).join(' / ')}`,
    );
  return (
    'Latency against percentile, the whole phase: read a curve at 99 % for the latency 99 % of requests beat. ' +
    `The axis spreads the tail (90 %, 99 %, 99.9 % evenly spaced). p50 / p90 / p99: ${values.join('; ')}. ` +
    `Short lines: criteria on a percentile${input.phase.criteria.length > 0 ? ', red when failed' : ''}.`
  );
}

/** The latency distribution chart of a phase. */
export function distributionChart(input: PhaseChartInput): ChartOutcome {
  const { distributions, latency } = input.phase.metrics;
  const drawn = LATENCIES.filter(({ key }) => distributions[key].length > 0).map((entry) => ({
    ...entry,
    points: distributions[entry.key],
    summary: latency[entry.key],
  }));
  if (drawn.length === 0) return { missing: 'Latency distributions: no request completed.' };
  const lastFinite = Math.max(...drawn.flatMap(({ points }) => points.filter(([p]) => p < 100).map(([p]) => nines(p))), 0);
  const maxX = rounded(lastFinite + MAX_GAP, 4);
  const { x, values } = aligned(drawn, maxX);
  const positive = values.flat().filter((value): value is number => value !== null && value > 0);
  const log = positive.length > 0 && Math.max(...positive) / Math.min(...positive) > LOG_SPREAD;
  const series: SeriesSpec[] = drawn.map(({ label, color }, index) => ({
    label,
    color,
    style: 'line',
    spanGaps: true,
    // A logarithmic axis cannot place zero: such values (sub-microsecond gaps) are left out.
    values: (values[index] ?? []).map((value) => (log && value !== null && value <= 0 ? null : value)),
  }));
  const spec: ChartSpec = {
    id: chartId(input, 'distributions'),
    title: 'Latency distributions',
    x,
    xRange: [0, maxX],
    xAxis: { label: 'percentile', unit: 'ticks', ticks: ticks(lastFinite, maxX) },
    y: log ? { label: 'milliseconds (log scale)', unit: 'ms', log: true } : { label: 'milliseconds', unit: 'ms', min: 0 },
    series,
    thresholds: thresholds(input, maxX, new Set(drawn.map(({ key }) => key))),
    xBands: [],
    yBands: [],
    marks: MARKED.map((percentile) => ({ x: nines(percentile), label: `p${percentile}`, color: PALETTE.grey })),
    points: drawn.flatMap(({ summary, color }) => markedPoints(summary, maxX, color)),
  };
  return { panel: { spec, caption: caption(input, drawn) } };
}

function thresholds(input: PhaseChartInput, maxX: number, drawn: ReadonlySet<string>) {
  return criterionLines(input.phase.criteria, (metric) => {
    const match = /^latency\.(e2e|ttft|itl|tpot)\.(p50|p90|p95|p99|max)$/.exec(metric);
    if (!match || !drawn.has(match[1] as string)) return undefined;
    const stat = match[2] as string;
    const at = stat === 'max' ? maxX : Math.min(maxX, nines(Number(stat.slice(1))));
    const label = LATENCIES.find(({ key }) => key === match[1])?.label ?? '';
    return { name: `${label} ${stat}`, xFrom: rounded(at - SEGMENT, 4), xTo: rounded(Math.min(maxX, at + SEGMENT), 4) };
  });
}
