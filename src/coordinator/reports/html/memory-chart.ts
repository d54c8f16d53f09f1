/**
 * Memory over time, one chart for the harness (worker RSS) and one for the target: the samples,
 * the least-squares trend the leak verdict was judged on, the leak limit (the trend's start plus
 * the plan's leak threshold, reached at the phase's end) and the memory criteria.
 */
import type { LeakVerdict, MemorySample } from '../../../shared/phase-metrics';
import { formatValue, type TargetMemoryUnit } from '../../../shared/units';
import type { ChartSpec, ThresholdSpec, ValueUnit } from './chart-spec';
import { noLeakWords, trendPerMinute } from '../memory-trend';
import { PALETTE } from './chart-palette';
import { rounded, secondsOf } from './chart-values';
import { criterionLines } from './criterion-lines';
import { chartId, type ChartOutcome, type PhaseChartInput } from './phase-chart-input';

export type MemorySide = 'harness' | 'target';

interface MemoryView {
  title: string;
  samples: MemorySample[];
  verdict: LeakVerdict;
  color: string;
  unit: TargetMemoryUnit;
  /** Sentences after the verdict: where the readings came from, what failed. */
  detail: string;
}

function viewOf(input: PhaseChartInput, side: MemorySide): MemoryView {
  const { harness, target } = input.phase.metrics.memory;
  if (side === 'harness') {
    const detail = `Peak RSS ${formatValue('bytes', harness.rssPeak)}, thread heap peak ${formatValue('bytes', harness.heapPeak)}.`;
    return {
      title: 'Memory: harness (worker RSS)',
      samples: harness.samples,
      verdict: harness,
      color: PALETTE.cyan,
      unit: 'bytes',
      detail,
    };
  }
  const failed =
    target.failedReadings > 0 ? ` ${target.failedReadings} readings failed${target.readError ? `: ${target.readError}` : ''}.` : '';
  return {
    title: `Memory: target (${target.source})`,
    samples: target.samples,
    verdict: target,
    color: PALETTE.pink,
    unit: target.unit,
    detail: `Peak ${formatValue(target.unit, target.peak)}, growth ${formatValue(target.unit, target.growth)}.${failed}`,
  };
}

function trendWords(verdict: LeakVerdict, unit: TargetMemoryUnit): string {
  const perMinute = trendPerMinute(verdict, unit);
  if (perMinute === null) return 'Too few samples for a trend.';
  return verdict.verdict === 'leak' ? `LEAK: a steady trend of ${perMinute}.` : `Trend ${perMinute}: ${noLeakWords(verdict)}.`;
}

/** The leak limit: from the trend at the first measured sample, rising by the threshold to the last sample. */
function leakLimit(view: MemoryView, trendAt: (tMs: number) => number, input: PhaseChartInput): ThresholdSpec | undefined {
  const threshold = input.settings.leakThresholdBytes;
  const measured = view.samples.filter((sample) => sample.tMs >= (input.settings.warmupMs ?? 0));
  const first = measured[0];
  const last = measured.at(-1);
  if (threshold === null || !first || !last || last.tMs <= first.tMs) return undefined;
  return {
    label: `leak limit: +${formatValue('bytes', threshold)} along the phase`,
    value: Math.round(trendAt(first.tMs)),
    valueTo: Math.round(trendAt(first.tMs) + threshold),
    xFrom: secondsOf(first.tMs),
    xTo: secondsOf(last.tMs),
    passed: view.verdict.verdict !== 'leak',
  };
}

/** How readings of a unit are drawn: ratios on a percent axis. */
const AXIS: Record<TargetMemoryUnit, { label: string; unit: ValueUnit; factor: number }> = {
  bytes: { label: 'bytes', unit: 'bytes', factor: 1 },
  ratio: { label: 'percent', unit: 'percent', factor: 100 },
  count: { label: 'count', unit: 'count', factor: 1 },
};

/** The memory chart of the harness or of the target. */
export function memoryChart(input: PhaseChartInput, side: MemorySide): ChartOutcome {
  const view = viewOf(input, side);
  if (view.samples.length === 0) return { missing: `${view.title}: no samples. ${view.detail}` };
  const axis = AXIS[view.unit];
  const drawn = (value: number) => rounded(value * axis.factor, view.unit === 'bytes' ? 0 : 4);
  const x = view.samples.map((sample) => secondsOf(sample.tMs));
  const spec: ChartSpec = {
    id: chartId(input, `memory-${side}`),
    title: view.title,
    x,
    xRange: [x[0] as number, x.at(-1) as number],
    xAxis: { label: 'seconds since the phase started', unit: 'seconds' },
    y: { label: axis.label, unit: axis.unit },
    series: [{ label: 'samples', color: view.color, style: 'points', values: view.samples.map((sample) => drawn(sample.bytes)) }],
    thresholds: [],
    xBands: [],
    yBands: [],
    marks: [],
    points: [],
  };
  const { slopeBytesPerSecond: slope, interceptBytes: intercept } = view.verdict;
  if (slope !== null && intercept !== null) {
    const trendAt = (tMs: number) => intercept + (slope * tMs) / 1000;
    spec.series.push({ label: 'trend', color: PALETTE.grey, style: 'line', values: view.samples.map((s) => drawn(trendAt(s.tMs))) });
    const limit = view.unit === 'bytes' ? leakLimit(view, trendAt, input) : undefined;
    if (limit) spec.thresholds.push(limit);
  }
  const start = view.samples.filter((sample) => sample.tMs >= (input.settings.warmupMs ?? 0)).slice(0, 3);
  const startBytes = start.length > 0 ? start.reduce((sum, sample) => sum + sample.bytes, 0) / start.length : 0;
  spec.thresholds.push(
    ...criterionLines(input.phase.criteria, (metric) => {
      if (metric === `memory.${side}.peak`) return { name: 'peak', factor: axis.factor };
      if (metric === `memory.${side}.growth`) return { name: 'growth', offset: drawn(startBytes), factor: axis.factor };
      return undefined;
    }),
  );
  const caption =
    `${view.samples.length} samples, and the least-squares trend the leak verdict reads (judged after the warm-up). ` +
    `${trendWords(view.verdict, view.unit)} ${view.detail} Dashed rising line: the leak limit (the plan's leak threshold added ` +
    'along the phase); a trend that ends above it is a leak. Growth criteria are drawn above the starting level.';
  return { panel: { spec, caption } };
}
