/**
 * The model-switch sequence: every request of a model-switch phase in order, its latency coloured
 * by role (the first request after a switch, the warm ones after it), a line at each switch named
 * after the model switched to, the warm band (warm p50..p95) shaded, and the switch criteria.
 */
import type { SwitchRequest } from '../../../shared/phase-metrics';
import { formatValue } from '../../../shared/units';
import type { ChartSpec, MarkSpec, SeriesSpec } from './chart-spec';
import { BAND, PALETTE } from './chart-palette';
import { hasValues, rounded } from './chart-values';
import { criterionLines } from './criterion-lines';
import { chartId, type ChartOutcome, type PhaseChartInput } from './phase-chart-input';

/** Past this many switches, their lines are drawn without model names (they would overlap). */
const NAMED_SWITCHES = 24;
/** Longer model names are cut in the chart (the phase's heading names them whole). */
const NAME_CHARS = 18;

const shortName = (model: string) => (model.length > NAME_CHARS ? `${model.slice(0, NAME_CHARS - 1)}\u2026` : model);

const ROLES: Array<{ role: SwitchRequest['role']; label: string; color: string }> = [
  { role: 'switch', label: 'first after a switch', color: PALETTE.orange },
  { role: 'warm', label: 'warm', color: PALETTE.blue },
  { role: 'plain', label: 'other', color: PALETTE.grey },
];

function roleSeries(sequence: SwitchRequest[]): SeriesSpec[] {
  const series: SeriesSpec[] = ROLES.map(({ role, label, color }) => ({
    label,
    color,
    style: 'points',
    values: sequence.map((request) => (request.role === role && request.e2eMs !== null ? rounded(request.e2eMs) : null)),
  }));
  series.push({
    label: 'failed (at 0)',
    color: PALETTE.red,
    style: 'points',
    values: sequence.map((request) => (request.e2eMs === null ? 0 : null)),
  });
  series.push({
    label: 'load time reported',
    color: PALETTE.purple,
    style: 'points',
    values: sequence.map((request) => (request.loadMs === null ? null : rounded(request.loadMs))),
  });
  return series.filter((entry) => hasValues(entry.values));
}

function switchMarks(sequence: SwitchRequest[]): MarkSpec[] {
  const switches = sequence.filter((request) => request.role === 'switch');
  const named = switches.length <= NAMED_SWITCHES;
  return switches.map((request) => ({ x: request.index, label: named ? `to ${shortName(request.model)}` : '', color: PALETTE.orange }));
}

/** The model-switch sequence chart of a phase. */
export function switchChart(input: PhaseChartInput): ChartOutcome {
  const { switch: switches } = input.phase.metrics;
  const { sequence } = switches;
  if (sequence.length === 0) return { missing: 'Model-switch sequence: not a model-switch phase, or no request was recorded.' };
  const x = sequence.map((request) => request.index);
  const spec: ChartSpec = {
    id: chartId(input, 'switch-sequence'),
    title: 'Model-switch sequence',
    x,
    xRange: [(x[0] as number) - 0.5, (x.at(-1) as number) + 0.5],
    xAxis: { label: 'request, in order', unit: 'index' },
    y: { label: 'milliseconds', unit: 'ms', min: 0 },
    series: roleSeries(sequence),
    thresholds: criterionLines(input.phase.criteria, (metric) => {
      if (metric.startsWith('switch.time.') && metric !== 'switch.time.mean') return { name: metric.replace('switch.time.', 'switch ') };
      if (metric.startsWith('switch.loadTime.') && metric !== 'switch.loadTime.mean') return { name: metric.replace('switch.', '') };
      if (metric === 'switch.penalty' && switches.warm) return { name: 'warm p50 + penalty', offset: rounded(switches.warm.p50) };
      return undefined;
    }),
    xBands: [],
    yBands: switches.warm
      ? [{ from: rounded(switches.warm.p50), to: rounded(switches.warm.p95), color: BAND.warm, label: 'warm p50..p95' }]
      : [],
    marks: switchMarks(sequence),
    points: [],
  };
  const caption =
    `Each request of the phase in order (one conversation): ${switches.count} switches, switch time p50 ` +
    `${formatValue('duration', switches.time?.p50)}, warm p50 ${formatValue('duration', switches.warm?.p50)}, penalty ` +
    `${formatValue('duration', switches.penaltyP50)}. Vertical lines: a switch, named after the model switched to. Band: warm ` +
    'p50..p95; a switch far above it is what loading a model costs.';
  return { panel: { spec, caption } };
}
