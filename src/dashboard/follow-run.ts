/**
 * The script of a running run's page: polls the run's live.json, shows where the run is, each
 * phase's and shard's progress, the criteria judged so far and the latest window of the phase
 * running now, draws that phase's windows as they come (throughput, errors and latency over time,
 * with uPlot), and loads the page
 * again once, when the run has ended, so that it settles on the final report.
 *
 * It runs in the browser, inlined with `followRun.toString()` (as report.html's `drawCharts` is), so
 * it references nothing outside itself: everything it uses is a parameter or defined inside. Types
 * are imported for checking only. Text from the run (phase names, error messages) is only ever set
 * as `textContent`, never parsed as HTML.
 */
/* istanbul ignore file -- coverage counters added to this source would be undefined in the page */
import type uPlot from 'uplot';
import type { LiveElement, LiveWindow } from './live-browser-types';
import type { LivePhase, LivePoint, LiveRun } from './live-run';

/** Series colours of the live charts (saturated, so that a test can find the data among the pixels). */
export interface LiveChartColors {
  ok: string;
  errors: string;
  e2eP50: string;
  e2eP95: string;
  ttftP95: string;
}

export interface FollowRunConfig {
  /** The run's live.json, on the dashboard's own origin. */
  url: string;
  /** The element whose JSON text is the `LiveRun` the page was rendered from. */
  snapshotId: string;
  /** Time between the end of one poll and the start of the next. */
  pollMs: number;
  /** Windows a chart keeps (the oldest go first): bounds the page's memory on a long phase. */
  maxPoints: number;
  colors: LiveChartColors;
}

/** Follows the run until it ends; the elements it fills are those of `renderLivePage`. */
export function followRun(win: LiveWindow, config: FollowRunConfig): void {
  const doc = win.document;
  const CHART_HEIGHT_PX = 220;
  const RESIZE_DELAY_MS = 150;

  interface Followed {
    phaseIndex: number;
    /** Windows seen so far, by start time: every poll brings the latest few, overlapping the last poll's. */
    points: Map<number, LivePoint>;
    plots: uPlot[];
  }
  let followed: Followed | null = null;
  let polls = 0;

  function byId(id: string): LiveElement {
    const element = doc.getElementById(id);
    if (!element) throw new Error(`live page: no element #${id}`);
    return element;
  }

  function node(tag: string, text: string, className = ''): LiveElement {
    const element = doc.createElement(tag);
    element.textContent = text;
    if (className) element.className = className;
    return element;
  }

  function fixed(value: number): string {
    return value === 0 ? '0' : value.toFixed(Math.abs(value) < 10 ? 2 : 0);
  }

  function ms(value: number | null | undefined): string {
    if (value === null || value === undefined) return '--';
    return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${fixed(value)} ms`;
  }

  function perSecond(value: number | null | undefined): string {
    return value === null || value === undefined ? '--' : `${fixed(value)} /s`;
  }

  function seconds(valueMs: number): string {
    return `${Number((valueMs / 1000).toFixed(1))} s`;
  }

  function progressCell(fraction: number): LiveElement {
    const clamped = Math.min(1, Math.max(0, fraction));
    const cell = node('td', '', 'progress');
    const bar = doc.createElement('progress');
    bar.max = 1;
    bar.value = clamped;
    cell.append(bar, ` ${Math.round(clamped * 100)} %`);
    return cell;
  }

  function row(className: string, cells: LiveElement[]): LiveElement {
    const tr = node('tr', '', className);
    tr.append(...cells);
    return tr;
  }

  function attempts(count: number): string {
    const retries = count - 1;
    return retries <= 0 ? String(count) : `${count} (${retries} ${retries === 1 ? 'retry' : 'retries'})`;
  }

  /** Counts a done shard reported before its end are a lower bound: "\u2265 n" (the report has the final ones). */
  function counts(part: { ok: number; errors: number; countsFinal: boolean }): LiveElement[] {
    const text = (count: number) => (part.countsFinal ? String(count) : `\u2265 ${count}`);
    return [node('td', text(part.ok), 'num'), node('td', text(part.errors), part.errors > 0 ? 'num fail' : 'num')];
  }

  function phaseRows(phase: LivePhase): LiveElement[] {
    // A stop is told as soon as a shard has said it, before the phase has ended.
    const stop = phase.stopping === null ? '' : ` (${phase.current ? 'stopping' : 'stopped early'}: ${phase.stopping})`;
    const head = row(phase.current ? 'phase current' : 'phase', [
      node('td', `${phase.phaseIndex + 1}. ${phase.name}`),
      node('td', `${phase.state}${stop}`, stop === '' ? '' : 'fail'),
      progressCell(phase.fraction),
      ...counts(phase),
      node('td', ''),
    ]);
    const shards = phase.shards.map((shard) =>
      row('shard', [
        node(
          'td',
          shard.worker === null ? `shard ${shard.shardIndex + 1}` : `shard ${shard.shardIndex + 1} on ${shard.worker}`,
          'shard-name',
        ),
        node('td', shard.state),
        progressCell(shard.fraction),
        ...counts(shard),
        node('td', attempts(shard.attempts), 'num'),
      ]),
    );
    return [head, ...shards];
  }

  /** A criterion's state in words, as the CLI's "criteria so far" line counts them. */
  function criterionState(state: string): string {
    if (state === 'waiting') return 'without data yet';
    if (state === 'at-end') return 'judged at the end';
    return state;
  }

  function renderCriteria(phase: LivePhase | undefined): void {
    const title = byId('live-criteria-title');
    const words = byId('live-criteria-words');
    const live = phase?.criteria;
    if (!phase || !live) {
      title.textContent = 'Criteria so far';
      words.textContent = phase ? `Phase ${phase.phaseIndex + 1} (${phase.name}) has no criteria.` : 'No phase is running.';
      byId('live-criteria').replaceChildren();
      return;
    }
    title.textContent = `Phase ${phase.phaseIndex + 1} (${phase.name}): criteria so far, over ${seconds(live.measuredMs)} measured`;
    // Provisional: a criterion holding so far may still break; the report judges the whole phase.
    words.textContent = `${live.words} (provisional: the report judges the whole phase).`;
    byId('live-criteria').replaceChildren(
      ...live.criteria.map((criterion) =>
        row(criterion.state === 'broken' ? 'criterion broken' : 'criterion', [
          node('td', `${criterion.metric} ${criterion.text}`),
          node('td', criterionState(criterion.state), criterion.state === 'broken' ? 'fail' : criterion.state === 'holding' ? 'pass' : ''),
          node('td', criterion.verdict ?? ''),
        ]),
      ),
    );
  }

  function stat(label: string, value: string): LiveElement {
    const box = node('div', '', 'stat');
    box.append(node('div', label, 'label'), node('div', value, 'value'));
    return box;
  }

  /** The latest window seen of `phase`: shards that have ended report none, so the last one seen stays. */
  function latestPoint(phase: LivePhase): LivePoint | undefined {
    if (followed?.phaseIndex !== phase.phaseIndex) return undefined;
    return [...followed.points.values()].reduce<LivePoint | undefined>(
      (latest, point) => (latest && latest.tMs > point.tMs ? latest : point),
      undefined,
    );
  }

  function renderLatest(phase: LivePhase | undefined): void {
    const title = byId('live-latest-title');
    const stats = byId('live-latest');
    const last = phase && latestPoint(phase);
    if (!phase || !last) {
      title.textContent = phase
        ? `Phase ${phase.phaseIndex + 1} (${phase.name}): waiting for the first window every shard has closed`
        : 'No phase is running';
      stats.replaceChildren();
      return;
    }
    const span = `${seconds(last.tMs)} to ${seconds(last.tMs + last.windowMs)}`;
    title.textContent = `Phase ${phase.phaseIndex + 1} (${phase.name}): latest window, ${span}`;
    stats.replaceChildren(
      stat('requests/s', perSecond(last.requestsPerSecond)),
      stat('errors', String(last.errors)),
      stat('e2e p50', ms(last.e2e?.p50)),
      stat('e2e p95', ms(last.e2e?.p95)),
      stat('e2e p99', ms(last.e2e?.p99)),
      stat('TTFT p50', ms(last.ttft?.p50)),
      stat('TTFT p95', ms(last.ttft?.p95)),
    );
  }

  function chartOptions(element: LiveElement, yLabel: string, format: (value: number) => string, series: uPlot.Series[]): uPlot.Options {
    return {
      width: element.clientWidth || 600,
      height: CHART_HEIGHT_PX,
      scales: {
        x: { time: false, range: (_u, min, max) => (min === max ? [(min ?? 0) - 1, (max ?? 0) + 1] : [min ?? 0, max ?? 1]) },
        y: { range: (_u, _min, max) => [0, Math.max(max ?? 0, 1e-3) * 1.1] },
      },
      axes: [
        { label: 'seconds since the measured start', values: (_u, splits) => splits.map((v) => (v === null ? '' : String(v))) },
        { label: yLabel, size: 72, values: (_u, splits) => splits.map((v) => (v === null ? '' : format(v))) },
      ],
      series: [{ label: 'window from', value: (_u, v) => (v === null ? '--' : seconds(v * 1000)) }, ...series],
      hooks: { draw: [() => void (element.dataset.drawn = 'true')] },
    };
  }

  function line(label: string, color: string, format: (value: number) => string): uPlot.Series {
    return { label, stroke: color, width: 2, value: (_u, v) => (v === null ? '--' : format(v)) };
  }

  function createPlots(throughput: uPlot.AlignedData, latency: uPlot.AlignedData): uPlot[] {
    const { colors } = config;
    const [rateChart, latencyChart] = [byId('live-throughput'), byId('live-latency')];
    rateChart.replaceChildren();
    latencyChart.replaceChildren();
    const rateSeries = [line('ok', colors.ok, perSecond), line('errors', colors.errors, perSecond)];
    const latencySeries = [line('e2e p50', colors.e2eP50, ms), line('e2e p95', colors.e2eP95, ms), line('TTFT p95', colors.ttftP95, ms)];
    return [
      new win.uPlot(chartOptions(rateChart, 'requests/s', perSecond, rateSeries), throughput, rateChart as never),
      new win.uPlot(chartOptions(latencyChart, 'latency', ms, latencySeries), latency, latencyChart as never),
    ];
  }

  /** Starts the charts afresh for a new phase: its windows count from its own start. */
  function followPhase(phase: LivePhase): Followed {
    for (const plot of followed?.plots ?? []) plot.destroy();
    const waiting = 'Waiting for the first window every shard has closed.';
    byId('live-throughput').replaceChildren(node('p', waiting, 'note'));
    byId('live-latency').replaceChildren(node('p', waiting, 'note'));
    byId('live-charts-title').textContent = `Phase ${phase.phaseIndex + 1} (${phase.name}) over time`;
    return { phaseIndex: phase.phaseIndex, points: new Map(), plots: [] };
  }

  function updateCharts(phase: LivePhase | undefined): void {
    // Between phases and while the report is aggregated, the last phase's charts stay.
    if (!phase) return;
    if (!followed || followed.phaseIndex !== phase.phaseIndex) followed = followPhase(phase);
    for (const point of phase.windows) followed.points.set(point.tMs, point);
    const points = [...followed.points.values()].sort((a, b) => a.tMs - b.tMs);
    for (const dropped of points.splice(0, Math.max(0, points.length - config.maxPoints))) followed.points.delete(dropped.tMs);
    if (points.length === 0) return;
    const x = points.map((point) => point.tMs / 1000);
    const throughput: uPlot.AlignedData = [x, points.map((p) => p.requestsPerSecond), points.map((p) => p.errorsPerSecond)];
    const latency: uPlot.AlignedData = [
      x,
      points.map((p) => p.e2e?.p50 ?? null),
      points.map((p) => p.e2e?.p95 ?? null),
      points.map((p) => p.ttft?.p95 ?? null),
    ];
    if (followed.plots.length === 0) followed.plots = createPlots(throughput, latency);
    else [throughput, latency].forEach((data, index) => followed?.plots[index]?.setData(data));
    doc.body.dataset.livePoints = String(points.length);
  }

  function render(live: LiveRun): void {
    byId('live-state').textContent = live.words;
    byId('live-phases').replaceChildren(...live.phases.flatMap(phaseRows));
    const current = live.phases.find((phase) => phase.current);
    renderCriteria(current);
    updateCharts(current);
    renderLatest(current);
  }

  function note(text: string, problem: boolean): void {
    const element = byId('live-note');
    element.textContent = text;
    element.className = problem ? 'note problem' : 'note';
  }

  async function poll(): Promise<void> {
    try {
      const response = await win.fetch(config.url, { cache: 'no-store', headers: { accept: 'application/json' } });
      // Error answers of live.json are JSON too ({ error }); a 401 or a proxy's page is not.
      const body = (await response.json().catch(() => null)) as (LiveRun & { error?: string }) | null;
      if (!response.ok || !body) throw new Error(body?.error ?? `HTTP ${response.status}`);
      render(body);
      doc.body.dataset.polls = String(++polls);
      if (body.ended) {
        note('The run has ended: loading its report.', false);
        doc.body.dataset.live = 'ended';
        // Once: the next load serves the finished page, which has no script that polls.
        return win.location.reload();
      }
      note(
        `Live: read ${body.readAt.slice(11, 19)} UTC, every ${seconds(config.pollMs)}. The report replaces this page when the run ends.`,
        false,
      );
    } catch (error) {
      note(`Could not read the run's progress (${error instanceof Error ? error.message : String(error)}): trying again.`, true);
    }
    win.setTimeout(() => void poll(), config.pollMs);
  }

  function followWidth(): void {
    let pending: number | undefined;
    win.addEventListener('resize', () => {
      win.clearTimeout(pending);
      pending = win.setTimeout(() => {
        const elements = [byId('live-throughput'), byId('live-latency')];
        followed?.plots.forEach((plot, index) => plot.setSize({ width: elements[index]?.clientWidth || 600, height: CHART_HEIGHT_PX }));
      }, RESIZE_DELAY_MS);
    });
  }

  render(JSON.parse(byId(config.snapshotId).textContent ?? 'null') as LiveRun);
  doc.body.dataset.live = 'following';
  followWidth();
  win.setTimeout(() => void poll(), config.pollMs);
}
