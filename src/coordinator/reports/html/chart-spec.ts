/**
 * What one chart of report.html draws, as plain JSON: the data, the criteria thresholds, shaded
 * bands and marks. Built in Node from the RunReport (so it is tested without a browser) and drawn
 * in the page by `drawCharts`, which knows nothing of phases or metrics.
 */

/** How values of an axis are formatted. */
export type ValueUnit = 'ms' | 'bytes' | 'perSecond' | 'count' | 'percent';

/**
 * line: a line through the points; points: dots only (samples, one request each); bars: a bar per
 * x; step: a staircase (what was asked for, window by window); dashed: a dashed line.
 */
type SeriesStyle = 'line' | 'points' | 'bars' | 'step' | 'dashed';

export interface SeriesSpec {
  label: string;
  /** CSS colour. */
  color: string;
  style: SeriesStyle;
  /** One value per x; null where the series has no value (drawn as a gap). */
  values: Array<number | null>;
  /** Fill under a line, as a CSS colour. */
  fill?: string;
  /** Join the line across nulls (a distribution on a grid shared with others); by default a null is a gap (a window without data). */
  spanGaps?: boolean;
}

/**
 * A criterion's threshold: a horizontal line (or segment from xFrom to xTo) at `value`; sloped up
 * to `valueTo` at xTo when given (a leak limit grows along the phase).
 */
export interface ThresholdSpec {
  label: string;
  value: number;
  valueTo?: number;
  /** Whether the criterion it draws passed: failing ones are drawn red. */
  passed: boolean;
  xFrom?: number;
  xTo?: number;
  /** The criterion's metric, to link the criteria table to this chart. */
  metric?: string;
}

/** A shaded span of x (a window judged stable or unstable). */
export interface XBandSpec {
  from: number;
  to: number;
  color: string;
}

/** A shaded span of y (the warm band of a model-switch phase: warm p50..p95). */
interface YBandSpec {
  from: number;
  to: number;
  color: string;
  label: string;
}

/** A vertical line at x with a label (a model switch; a percentile of a distribution). */
export interface MarkSpec {
  x: number;
  label: string;
  color: string;
}

/** A labelled dot (a distribution's value at p50, p90 or p99). */
export interface PointSpec {
  x: number;
  y: number;
  color: string;
  label: string;
}

export interface AxisSpec {
  label: string;
  unit: ValueUnit;
  /** Logarithmic scale (base 10): values must be > 0. */
  log?: boolean;
  /** Lowest value the axis shows at least (0 for most charts: bars and rates start at zero). */
  min?: number;
}

export interface XAxisSpec {
  label: string;
  /** seconds: time since the phase started; index: request number; ticks: only the given ticks are labelled. */
  unit: 'seconds' | 'index' | 'ticks';
  /** [x, label] pairs for unit 'ticks'. */
  ticks?: Array<[number, string]>;
}

export interface ChartSpec {
  /** The DOM id of the chart's container. */
  id: string;
  title: string;
  /** Ascending. */
  x: number[];
  /** The x range shown: [first window start, last window end] for time charts, so one window still spans the chart. */
  xRange: [number, number];
  xAxis: XAxisSpec;
  y: AxisSpec;
  series: SeriesSpec[];
  thresholds: ThresholdSpec[];
  xBands: XBandSpec[];
  yBands: YBandSpec[];
  marks: MarkSpec[];
  points: PointSpec[];
}

/** A chart with the sentence under it, saying what it shows and how to read it. */
export interface ChartPanel {
  spec: ChartSpec;
  caption: string;
  /** Criteria the caption judges, which no line can draw (stability on the throughput chart). */
  notedMetrics?: string[];
}

/** What the page's script reads: every chart of the report. */
export interface ReportChartData {
  charts: ChartSpec[];
}
