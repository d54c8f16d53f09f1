/**
 * The script of report.html: draws every chart spec with uPlot, adding what uPlot does not draw
 * itself (shaded bands, criteria thresholds, vertical marks, labelled points) in its draw hooks.
 *
 * It runs in the browser, inlined with `drawCharts.toString()`, so it references nothing outside
 * itself: everything it uses is a parameter or defined inside (the inner functions are its
 * modules). Types are imported for checking only.
 */
/* istanbul ignore file -- coverage counters added to this source would be undefined in the page */
import type uPlot from 'uplot';
import type { Canvas2D, ChartElement, ReportWindow } from './browser-types';
import type { AxisSpec, ChartSpec, ReportChartData, SeriesSpec, ValueUnit, XAxisSpec } from './chart-spec';

/** Draws the charts whose specs are the JSON text of the element `dataElementId`. */
export function drawCharts(win: ReportWindow, dataElementId: string): void {
  const UPlot = win.uPlot;
  const ratio = win.devicePixelRatio || 1;
  const HEIGHT_PX = 260;
  const PASSED = '#4d4d4d';
  const FAILED = '#c4001d';
  /** A threshold this many times beyond the data still widens the axis; further away it is noted at the edge instead. */
  const REACH = 1.6;
  const LINE_PX = 13 * ratio;
  /** Legend names of the x value, by x axis unit. */
  const X_LEGEND = { seconds: 'time', index: 'request', ticks: 'at' } as const;

  /** Labels placed in the current drawing of a chart, so that the next one moves off them. */
  interface Box {
    left: number;
    right: number;
    top: number;
    bottom: number;
  }

  function trimmed(value: number, digits: number): string {
    return String(Number(value.toFixed(digits)));
  }

  function formatValue(unit: ValueUnit, value: number): string {
    const abs = Math.abs(value);
    switch (unit) {
      case 'ms':
        if (abs >= 1000) return `${trimmed(value / 1000, 2)} s`;
        return abs >= 1 || abs === 0 ? `${trimmed(value, abs < 10 ? 2 : 0)} ms` : `${trimmed(value * 1000, 0)} \u00b5s`;
      case 'bytes':
        if (abs >= 1e9) return `${trimmed(value / 1e9, 2)} GB`;
        if (abs >= 1e6) return `${trimmed(value / 1e6, 1)} MB`;
        return abs >= 1e3 ? `${trimmed(value / 1e3, 1)} kB` : `${trimmed(value, 0)} B`;
      case 'perSecond':
        return `${trimmed(value, abs < 10 ? 2 : 0)} /s`;
      case 'percent':
        return `${trimmed(value, 1)} %`;
      case 'count':
        return trimmed(value, 2);
    }
  }

  function formatX(axis: XAxisSpec, value: number): string {
    if (axis.unit === 'seconds') return `${trimmed(value, 1)} s`;
    if (axis.unit === 'index') return String(value);
    const tick = (axis.ticks ?? []).find(([x]) => Math.abs(x - value) < 1e-6);
    return tick ? tick[1] : '';
  }

  /** The values an axis must show: its thresholds near the data, its bands. */
  function extent(spec: ChartSpec, dataMin: number | null, dataMax: number | null): [number, number] {
    const bands = spec.yBands.flatMap((band) => [band.from, band.to]);
    let low = Math.min(...(dataMin === null ? bands : [dataMin, ...bands]));
    let high = Math.max(...(dataMax === null ? bands : [dataMax, ...bands]));
    if (!Number.isFinite(low) || !Number.isFinite(high)) [low, high] = [0, 1];
    for (const line of spec.thresholds) {
      for (const value of line.valueTo === undefined ? [line.value] : [line.value, line.valueTo]) {
        if (value > high && value <= Math.max(high, 1e-9) * REACH) high = value;
        if (value < low && (low <= 0 || value >= low / REACH)) low = value;
      }
    }
    return [low, high];
  }

  function scaleRange(spec: ChartSpec, axis: AxisSpec): uPlot.Range.Function {
    return (_u, dataMin, dataMax) => {
      let [low, high] = extent(spec, dataMin, dataMax);
      if (axis.log) {
        const bottom = 10 ** Math.floor(Math.log10(Math.max(low, 1e-3)));
        return [bottom, Math.max(10 ** Math.ceil(Math.log10(Math.max(high, 1e-3))), bottom * 10)];
      }
      if (axis.min !== undefined) low = Math.min(low, axis.min);
      if (high - low < 1e-9) high = low + (Math.abs(low) > 0 ? Math.abs(low) * 0.1 : 1);
      const pad = (high - low) * 0.08;
      return [axis.min !== undefined && low >= axis.min ? low : low - pad, high + pad];
    };
  }

  function xRange(spec: ChartSpec): uPlot.Range.Function {
    const [from, to] = spec.xRange;
    return () => (to > from ? [from, to] : [from - 1, from + 1]);
  }

  function seriesOptions(spec: ChartSpec, series: SeriesSpec): uPlot.Series {
    const drawn = series.values.filter((value) => value !== null).length;
    const options: uPlot.Series = {
      label: series.label,
      stroke: series.color,
      width: 2,
      value: (_u, value) => (value === null || value === undefined ? '--' : formatValue(spec.y.unit, value)),
    };
    // uPlot shows dots only where the data is sparse: a series of one or two values would otherwise draw nothing visible.
    if (drawn <= 2) options.points = { show: true, size: 8, fill: series.color };
    if (series.fill) options.fill = series.fill;
    if (series.spanGaps) options.spanGaps = true;
    if (series.style === 'dashed') options.dash = [6, 4];
    if (series.style === 'points') {
      options.paths = () => null;
      options.points = { show: true, size: 7, fill: series.color, stroke: series.color };
    }
    const { bars, stepped } = UPlot.paths;
    if (series.style === 'bars' && bars) {
      options.paths = bars({ size: [0.6, 64] });
      options.fill = series.color;
      options.points = { show: false };
    }
    if (series.style === 'step' && stepped) options.paths = stepped({ align: 1 });
    return options;
  }

  function axes(spec: ChartSpec): uPlot.Axis[] {
    // Splits may hold nulls: log axes blank the ticks that would crowd.
    const x: uPlot.Axis = {
      label: spec.xAxis.label,
      values: (_u, splits) => splits.map((v) => (v === null ? '' : formatX(spec.xAxis, v))),
    };
    const ticks = spec.xAxis.ticks;
    if (spec.xAxis.unit === 'ticks' && ticks) x.splits = () => ticks.map(([value]) => value);
    if (spec.xAxis.unit === 'index') x.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    const y: uPlot.Axis = {
      label: spec.y.label,
      size: 72,
      values: (_u, splits) => splits.map((value) => (value === null ? '' : formatValue(spec.y.unit, value))),
    };
    return [x, y];
  }

  function canvasOf(u: uPlot): Canvas2D {
    return u.ctx as unknown as Canvas2D;
  }

  function clipToPlot(u: uPlot, ctx: Canvas2D): void {
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
  }

  /** Moves a label's baseline up (or down, with `step` > 0) until it overlaps no label already placed. */
  function freeSpot(placed: Box[], left: number, right: number, y: number, step: number): number {
    let baseline = y;
    for (let tries = 0; tries < 6; tries++) {
      const box = { left, right, top: baseline - LINE_PX, bottom: baseline };
      if (!placed.some((other) => box.left < other.right && other.left < box.right && box.top < other.bottom && other.top < box.bottom)) {
        placed.push(box);
        return baseline;
      }
      baseline += step;
    }
    return baseline;
  }

  /** Text with a white halo, readable over lines and bands, moved off the labels already placed. */
  function label(
    ctx: Canvas2D,
    placed: Box[],
    text: string,
    at: { x: number; y: number; step?: number },
    color: string,
    align: 'left' | 'right',
  ): void {
    ctx.font = `${Math.round(11 * ratio)}px sans-serif`;
    const width = ctx.measureText(text).width;
    const left = align === 'left' ? at.x : at.x - width;
    const x = at.x;
    const y = freeSpot(placed, left, left + width, at.y, at.step ?? -LINE_PX);
    ctx.textAlign = align;
    ctx.textBaseline = 'bottom';
    ctx.lineWidth = 3 * ratio;
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.9)';
    ctx.strokeText(text, x, y);
    ctx.fillStyle = color;
    ctx.fillText(text, x, y);
  }

  function drawBands(u: uPlot, spec: ChartSpec, placed: Box[]): void {
    const ctx = canvasOf(u);
    placed.length = 0;
    clipToPlot(u, ctx);
    for (const band of spec.xBands) {
      const from = u.valToPos(band.from, 'x', true);
      ctx.fillStyle = band.color;
      ctx.fillRect(from, u.bbox.top, u.valToPos(band.to, 'x', true) - from, u.bbox.height);
    }
    for (const band of spec.yBands) {
      const top = u.valToPos(band.to, 'y', true);
      ctx.fillStyle = band.color;
      ctx.fillRect(u.bbox.left, top, u.bbox.width, u.valToPos(band.from, 'y', true) - top);
    }
    ctx.restore();
    for (const band of spec.yBands) {
      label(ctx, placed, band.label, { x: u.bbox.left + 6 * ratio, y: u.valToPos(band.to, 'y', true) - 2 * ratio }, '#1f4e79', 'left');
    }
  }

  function dashedLine(u: uPlot, ctx: Canvas2D, from: [number, number], to: [number, number], color: string, dash: number[]): void {
    clipToPlot(u, ctx);
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5 * ratio;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.restore();
  }

  function drawThresholds(u: uPlot, spec: ChartSpec, placed: Box[]): void {
    const ctx = canvasOf(u);
    const { left, top, width, height } = u.bbox;
    for (const line of spec.thresholds) {
      const color = line.passed ? PASSED : FAILED;
      const x0 = line.xFrom === undefined ? left : u.valToPos(line.xFrom, 'x', true);
      const x1 = line.xTo === undefined ? left + width : u.valToPos(line.xTo, 'x', true);
      const y0 = u.valToPos(line.value, 'y', true);
      const y1 = line.valueTo === undefined ? y0 : u.valToPos(line.valueTo, 'y', true);
      const right = Math.min(x1, left + width) - 4 * ratio;
      if (Math.max(y0, y1) < top || Math.min(y0, y1) > top + height) {
        // Too far from the data to widen the axis for: named at the edge it lies beyond.
        const text = `${Math.min(y0, y1) < top ? '\u2191' : '\u2193'} ${line.label}`;
        label(ctx, placed, text, { x: left + width - 4 * ratio, y: top + LINE_PX, step: LINE_PX }, color, 'right');
        continue;
      }
      dashedLine(u, ctx, [x0, y0], [x1, y1], color, [7 * ratio, 4 * ratio]);
      label(ctx, placed, line.label, { x: right, y: Math.max(Math.min(y0, y1) - 2 * ratio, top + LINE_PX) }, color, 'right');
    }
  }

  function drawMarks(u: uPlot, spec: ChartSpec, placed: Box[]): void {
    const ctx = canvasOf(u);
    const { top, height } = u.bbox;
    for (const mark of spec.marks) {
      const x = u.valToPos(mark.x, 'x', true);
      dashedLine(u, ctx, [x, top], [x, top + height], mark.color, [3 * ratio, 3 * ratio]);
      // At the foot of the plot, where latencies rarely are; crowded names climb row by row.
      if (mark.label) label(ctx, placed, mark.label, { x: x + 3 * ratio, y: top + height - 3 * ratio }, mark.color, 'left');
    }
    for (const point of spec.points) {
      const x = u.valToPos(point.x, 'x', true);
      const y = u.valToPos(point.y, 'y', true);
      ctx.beginPath();
      ctx.arc(x, y, 4 * ratio, 0, 2 * Math.PI);
      ctx.fillStyle = point.color;
      ctx.fill();
      ctx.lineWidth = 1.5 * ratio;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
      if (point.label) label(ctx, placed, point.label, { x: x + 6 * ratio, y: y - 4 * ratio }, point.color, 'left');
    }
  }

  /** The first draw records on the container that it drew, and how many values (tests read it). */
  function recordDraw(element: ChartElement, spec: ChartSpec): void {
    if (element.dataset.drawn) return;
    element.dataset.points = String(spec.series.reduce((sum, series) => sum + series.values.filter((v) => v !== null).length, 0));
    element.dataset.drawn = 'true';
  }

  function chartOptions(spec: ChartSpec, element: ChartElement): uPlot.Options {
    const scales: uPlot.Scales = {
      x: { time: false, range: xRange(spec) },
      y: spec.y.log ? { distr: 3, log: 10, range: scaleRange(spec, spec.y) } : { range: scaleRange(spec, spec.y) },
    };
    const placed: Box[] = [];
    const xSeries: uPlot.Series = {
      label: X_LEGEND[spec.xAxis.unit],
      value: (_u, value) => (value === null ? '--' : formatX(spec.xAxis, value)),
    };
    return {
      width: element.clientWidth || 600,
      height: HEIGHT_PX,
      scales,
      axes: axes(spec),
      series: [xSeries, ...spec.series.map((series) => seriesOptions(spec, series))],
      hooks: {
        drawClear: [(u) => drawBands(u, spec, placed)],
        draw: [(u) => drawThresholds(u, spec, placed), (u) => drawMarks(u, spec, placed), () => recordDraw(element, spec)],
      },
    };
  }

  function drawChart(spec: ChartSpec): { plot: uPlot; element: ChartElement } | null {
    const element = win.document.getElementById(spec.id);
    if (!element) return null;
    try {
      const data = [spec.x, ...spec.series.map((series) => series.values)] as uPlot.AlignedData;
      return { plot: new UPlot(chartOptions(spec, element), data, element as never), element };
    } catch (error) {
      element.textContent = `This chart could not be drawn: ${String(error)}`;
      element.dataset.failed = 'true';
      win.console.error(`chart ${spec.id}:`, error);
      return null;
    }
  }

  function followWidth(charts: Array<{ plot: uPlot; element: ChartElement }>): void {
    let pending: number | undefined;
    win.addEventListener('resize', () => {
      win.clearTimeout(pending);
      pending = win.setTimeout(() => {
        for (const { plot, element } of charts) plot.setSize({ width: element.clientWidth || 600, height: HEIGHT_PX });
      }, 150);
    });
  }

  const source = win.document.getElementById(dataElementId);
  const data = JSON.parse(source?.textContent ?? '{"charts":[]}') as ReportChartData;
  const charts = data.charts.map(drawChart).filter((chart): chart is { plot: uPlot; element: ChartElement } => chart !== null);
  followWidth(charts);
  win.document.body.dataset.charts = String(charts.length);
}
