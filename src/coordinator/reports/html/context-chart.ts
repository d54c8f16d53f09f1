/**
 * Context recall: the share of planted facts recalled, by turn distance (planted n turns before
 * the probe, same model), then all same-model probes and all probes across a model switch, with
 * the preservation and accuracy criteria over their bars.
 */
import { formatValue } from '../../../shared/units';
import type { ChartSpec } from './chart-spec';
import { PALETTE } from './chart-palette';
import { rounded } from './chart-values';
import { criterionLines } from './criterion-lines';
import { chartId, type ChartOutcome, type PhaseChartInput } from './phase-chart-input';

const percentOf = (recalled: number, probes: number) => (probes > 0 ? rounded((100 * recalled) / probes, 2) : null);
const BAR_HALF = 0.4;

/** The context recall chart of a phase. */
export function contextChart(input: PhaseChartInput): ChartOutcome {
  const { context } = input.phase.metrics;
  if (context.probes === 0 && context.crossSwitchProbes === 0) {
    return { missing: 'Context recall: the phase planted no facts (context.facts is 0).' };
  }
  const distances = context.byDistance;
  const same = distances.length;
  // The bar across a switch only where the phase probed across switches (model-switch phases).
  const across = context.crossSwitchProbes > 0 ? same + 1 : null;
  const x = [...distances.map((_, index) => index), same, ...(across === null ? [] : [across])];
  const ticks: Array<[number, string]> = [
    ...distances.map((bucket, index): [number, string] => [index, String(bucket.distance)]),
    [same, 'all'],
    ...(across === null ? [] : [[across, 'across switch'] as [number, string]]),
  ];
  const last = across ?? same;
  const spec: ChartSpec = {
    id: chartId(input, 'context'),
    title: 'Context recall',
    x,
    xRange: [-0.6, last + 0.6],
    xAxis: {
      label: 'turns from planting a fact to probing it; all same-model probes',
      unit: 'ticks',
      ticks,
    },
    y: { label: 'facts recalled, %', unit: 'percent', min: 0 },
    series: [
      {
        label: 'same model',
        color: PALETTE.blue,
        style: 'bars',
        values: [
          ...distances.map((bucket) => percentOf(bucket.recalled, bucket.probes)),
          percentOf(context.recalled, context.probes),
          ...(across === null ? [] : [null]),
        ],
      },
      ...(across === null
        ? []
        : [
            {
              label: 'across a switch',
              color: PALETTE.orange,
              style: 'bars' as const,
              values: [...distances.map(() => null), null, percentOf(context.crossSwitchRecalled, context.crossSwitchProbes)],
            },
          ]),
    ],
    thresholds: criterionLines(input.phase.criteria, (metric) => {
      if (metric === 'context.preservation') return { name: 'preservation', factor: 100, xFrom: -BAR_HALF, xTo: same + BAR_HALF };
      if (metric === 'context.accuracy' && across !== null) {
        return { name: 'accuracy', factor: 100, xFrom: across - BAR_HALF, xTo: across + BAR_HALF };
      }
      return undefined;
    }),
    xBands: [],
    yBands: [],
    marks: [],
    points: [],
  };
  const caption =
    `Facts planted in a conversation and probed turns later. Same model: ${context.recalled} of ${context.probes} recalled ` +
    `(preservation ${formatValue('ratio', context.preservation)}); across a model switch: ${context.crossSwitchRecalled} of ` +
    `${context.crossSwitchProbes} (accuracy ${formatValue('ratio', context.accuracy)}). A fall with distance means the model ` +
    'loses older turns (a context window too small, or history cut).';
  return { panel: { spec, caption } };
}
