/**
 * report.html's structure, without a browser: a container per chart with its data, criteria
 * thresholds on the charts they judge, stable windows, the leak limit and the warm band, margins
 * in the criteria table, every user-written string escaped, chart data safe inside <script>, and
 * nothing that would make a request.
 */
import type { ChartSpec, ReportChartData } from '../../src/coordinator/reports/html/chart-spec';
import { BAND } from '../../src/coordinator/reports/html/chart-palette';
import { secondsOf } from '../../src/coordinator/reports/html/chart-values';
import { jsonForScript } from '../../src/coordinator/reports/html/html-escape';
import { renderHtmlReport } from '../../src/coordinator/reports/html/render-html-report';
import type { RunReport } from '../../src/shared/run-report';
import { fullSampleReport, HOSTILE, noCriteriaSampleReport, singleWindowSampleReport } from '../helpers/sample-report';

const reports: Record<string, RunReport> = {
  full: fullSampleReport(),
  'single-window': singleWindowSampleReport(),
  'no-criteria': noCriteriaSampleReport(),
};
const pages = Object.fromEntries(Object.entries(reports).map(([name, report]) => [name, renderHtmlReport(report)]));

const DATA_BLOCK = /<script type="application\/json" id="grym-chart-data">([^]*?)<\/script>/;

function chartData(html: string): ReportChartData {
  const match = DATA_BLOCK.exec(html);
  if (!match) throw new Error('no chart data in the page');
  return JSON.parse(match[1] as string) as ReportChartData;
}

function chart(name: string, id: string): ChartSpec {
  const found = chartData(pages[name] as string).charts.find((spec) => spec.id === id);
  if (!found) throw new Error(`no chart ${id} in ${name}`);
  return found;
}

describe.each(Object.keys(reports))('the %s sample', (name) => {
  const html = pages[name] as string;
  const { charts } = chartData(html);

  test('has one container per chart, and every chart has data aligned on its x', () => {
    expect(charts.length).toBeGreaterThan(0);
    for (const spec of charts) {
      expect(html.split(`<div class="chart" id="${spec.id}" role="img"`)).toHaveLength(2);
      expect(spec.x.length).toBeGreaterThan(0);
      expect(spec.x).toEqual([...spec.x].sort((a, b) => a - b));
      expect(spec.xRange[1]).toBeGreaterThanOrEqual(spec.xRange[0]);
      for (const series of spec.series) expect(series.values).toHaveLength(spec.x.length);
      expect(spec.series.some((series) => series.values.some((value) => value !== null))).toBe(true);
    }
  });

  test('draws every phase over time, its distributions, memory and generator health', () => {
    reports[name]?.phases.forEach((_phase, index) => {
      for (const kind of ['throughput', 'e2e-over-time', 'in-flight', 'distributions', 'memory-harness', 'loop-lag']) {
        expect(charts.map((spec) => spec.id)).toContain(`phase-${index}-${kind}`);
      }
    });
  });

  test('makes no request: no external source, link, stylesheet import or font', () => {
    expect(html).not.toMatch(/src="http|href="http|url\(\s*['"]?http|@import|<link\b/i);
    expect(html).not.toMatch(/<(img|iframe|object|embed)\b/i);
    // Three scripts (the data, uPlot, the drawing), each closed once: nothing inside ends one early.
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
  });

  test('uses SVG or text for marks, never emoji (no emoji font in headless Chromium)', () => {
    expect(html).not.toMatch(/[\u{1F300}-\u{1FAFF}\u{2600}-\u{27BF}]/u);
  });

  test('keeps the chart data free of "<", so it cannot end its <script>', () => {
    expect((DATA_BLOCK.exec(html)?.[1] ?? '').includes('<')).toBe(false);
  });
});

describe('thresholds on the charts they judge', () => {
  test.each([
    ['phase-0-e2e-over-time', 'latency.e2e.p95'],
    ['phase-0-ttft-over-time', 'latency.ttft.p99'],
    ['phase-0-itl-over-time', 'latency.itl.p99'],
    ['phase-0-throughput', 'throughput.rps'],
    ['phase-0-in-flight', 'concurrency.mean'],
    ['phase-0-context', 'context.preservation'],
    ['phase-0-memory-harness', 'memory.harness.peak'],
    ['phase-1-distributions', 'latency.tpot.p95'],
    ['phase-1-in-flight', 'concurrency.peak'],
    ['phase-2-switch-sequence', 'switch.time.p95'],
    ['phase-2-switch-sequence', 'switch.penalty'],
    ['phase-2-context', 'context.accuracy'],
    ['phase-2-memory-target', 'memory.target.growth'],
    ['phase-4-memory-harness', 'memory.harness.growth'],
    ['phase-4-memory-target', 'memory.target.peak'],
    ['phase-4-loop-lag', 'generator.eventLoopLag.p99'],
  ])('%s draws %s, red when it failed, and the criteria table links to it', (id, metric) => {
    const [, phaseIndex] = /^phase-(\d+)-/.exec(id) as RegExpExecArray;
    const criterion = reports.full?.phases[Number(phaseIndex)]?.criteria.find((c) => c.metric === metric);
    const line = chart('full', id).thresholds.find((threshold) => threshold.metric === metric);
    expect(line).toBeDefined();
    expect(line?.passed).toBe(criterion?.passed);
    expect(pages.full).toContain(`<a href="#${id}">chart</a>`);
  });

  test('a ratio is drawn on a percent axis, a growth above the starting level', () => {
    expect(chart('full', 'phase-0-context').thresholds[0]?.value).toBeCloseTo(95);
    const growth = chart('full', 'phase-4-memory-harness').thresholds.find((t) => t.metric === 'memory.harness.growth');
    expect(growth?.value).toBeGreaterThan(20e6 + 150e6);
  });

  test('stability, which no line can draw, is noted under the throughput chart, and the table links there', () => {
    const criterion = reports.full!.phases[0]!.criteria.find((c) => c.metric === 'stability')!;
    const value = `${(criterion.value! * 100).toFixed(2)} %`;
    expect(pages.full).toContain(`Criteria: stability &gt; 90.00 % (${value}, ${criterion.passed ? 'pass' : 'fail'})`);
    expect(pages.full).toMatch(/<code>stability<\/code>[^]*?<a href="#phase-0-throughput">chart<\/a>/);
  });

  test('the run without criteria draws no criterion and says it only measures', () => {
    const drawn = chartData(pages['no-criteria'] as string).charts.flatMap((spec) => spec.thresholds.filter((t) => t.metric));
    expect(drawn).toEqual([]);
    expect(pages['no-criteria']).toContain('No criteria: this run only measures');
  });
});

describe('what each chart shows', () => {
  test('stable and unstable windows shade the throughput chart', () => {
    const colors = new Set(chart('full', 'phase-0-throughput').xBands.map((band) => band.color));
    expect(colors).toEqual(new Set([BAND.stable, BAND.unstable]));
  });

  test('the open loop that saturates: arrivals beyond completions, in flight at the cap', () => {
    const spec = chart('full', 'phase-1-throughput');
    const [completed, scheduled] = [spec.series[0]?.values ?? [], spec.series[1]?.values ?? []];
    expect(spec.series[1]?.label).toBe('scheduled /s');
    const last = spec.x.length - 2;
    expect(scheduled[last] as number).toBeGreaterThan((completed[last] as number) * 1.3);
    const inFlight = chart('full', 'phase-1-in-flight').series;
    expect(Math.max(...(inFlight[1]?.values as number[]))).toBeGreaterThan(15);
    expect(inFlight[0]?.values.every((value) => value === 16)).toBe(true);
  });

  test('the ramp: requested in flight climbs from 1 to 8', () => {
    const requested = chart('full', 'phase-0-in-flight').series[0]?.values as number[];
    expect(requested[0]).toBeLessThanOrEqual(2);
    expect(requested.at(-1)).toBe(8);
  });

  test('the model-switch sequence marks each switch, its warm band and the failed request', () => {
    const spec = chart('full', 'phase-2-switch-sequence');
    const { sequence } = reports.full?.phases[2]?.metrics.switch ?? { sequence: [] };
    expect(spec.marks).toHaveLength(sequence.filter((request) => request.role === 'switch').length);
    expect(spec.marks.length).toBeGreaterThan(0);
    expect(spec.yBands).toEqual([expect.objectContaining({ label: 'warm p50..p95' })]);
    expect(spec.series.find((series) => series.label === 'failed (at 0)')?.values.filter((v) => v === 0)).toHaveLength(1);
  });

  test('the leak: a trend line, and a leak limit drawn red because the trend ends above it', () => {
    const spec = chart('full', 'phase-4-memory-harness');
    expect(spec.series.map((series) => series.label)).toEqual(['samples', 'trend']);
    const limit = spec.thresholds.find((threshold) => threshold.label.startsWith('leak limit'));
    expect(limit).toMatchObject({ passed: false });
    expect((limit?.valueTo as number) - (limit?.value as number)).toBe(20e6);
    expect(pages.full).toContain('LEAK: a steady trend of');
  });

  test('latency distributions mark p50, p90 and p99 on a scale that spreads the tail', () => {
    const spec = chart('full', 'phase-0-distributions');
    expect(spec.marks.map((mark) => mark.label)).toEqual(['p50', 'p90', 'p99']);
    expect(spec.marks.map((mark) => mark.x)).toEqual([0.301, 1, 2]);
    expect(spec.series.map((series) => series.label)).toEqual(['e2e', 'TTFT', 'ITL', 'TPOT']);
    expect(spec.points).toHaveLength(12);
  });

  test('context recall by turn distance, then same model and across a switch', () => {
    const ticks = chart('full', 'phase-2-context').xAxis.ticks?.map(([, label]) => label);
    expect(ticks).toEqual(['2', '3', 'all', 'across switch']);
    expect(chart('full', 'phase-0-context').xAxis.ticks?.map(([, label]) => label)).not.toContain('across switch');
  });

  test('a single window is one point spanning the whole x range', () => {
    const spec = chart('single-window', 'phase-0-throughput');
    // The window ends with the last request: the point sits in the middle of that span.
    const { tMs, spanMs } = reports['single-window']!.phases[0]!.metrics.timeline.points[0]!;
    expect(spec.x).toEqual([secondsOf(tMs + spanMs / 2)]);
    expect(spec.xRange).toEqual([secondsOf(tMs), secondsOf(tMs + spanMs)]);
  });

  test('a report without windows (from an older grym-perf) says so once, and still draws what it holds', () => {
    const old = structuredClone(reports['single-window'] as RunReport);
    (old.phases[0] as RunReport['phases'][number]).metrics.timeline.points = [];
    const html = renderHtmlReport(old);
    expect(/<ul class="not-drawn">(.*?)<\/ul>/.exec(html)?.[1]?.match(/<li>/g)).toHaveLength(2);
    expect(html).toContain('this report holds no per-window series');
    expect(chartData(html).charts.map((spec) => spec.id)).toEqual(['phase-0-distributions', 'phase-0-memory-harness']);
  });

  test('charts with nothing to draw say why', () => {
    expect(pages['no-criteria']).toContain('Time to first token over time: no first token was timed (the target did not stream).');
    expect(pages.full).toContain('44 readings failed: connect ECONNREFUSED 127.0.0.1:11434');
  });
});

describe('the page around the charts', () => {
  test('the verdict card says pass or fail, what failed, and the run', () => {
    expect(pages.full).toMatch(/<h1><span class="word">FAIL<\/span> sample-run<\/h1>/);
    expect(pages['single-window']).toMatch(/<h1><span class="word">PASS<\/span> smoke<\/h1>/);
    // The ramp's first windows hold fewer conversations: judged to their share, its stability passes.
    expect(pages.full).toContain('5 of 21 criteria failed (saturation: throughput.rps; switching: context.accuracy;');
    expect(pages.full).toContain('phases that did not complete: errors');
    expect(pages.full).toMatch(/<dt>mode<\/dt><dd>distributed<\/dd>/);
    expect(pages.full).toMatch(/<dt>workers \(2\)<\/dt>/);
  });

  test('the criteria table gives margins: over by, under by', () => {
    expect(pages.full).toContain('fail: under by 9.65 /s');
    expect(pages.full).toMatch(/fail: over by \d+\.\d+ %/);
    expect(pages.full).toMatch(/pass: under by \d+\.\d+ ms/);
  });

  test('escapes every user-written string: plan, model, run id, worker, error body', () => {
    const html = pages.full as string;
    for (const raw of [HOSTILE.description, HOSTILE.model, HOSTILE.worker, HOSTILE.errorBody, HOSTILE.runId])
      expect(html).not.toContain(raw);
    expect(html).toContain('Every chart, &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;');
    expect(html).toContain('worker-b&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;');
    expect(html).toContain('sample-run-&lt;/script&gt;-1');
    expect(html).toContain('qwen&lt;2.5&gt;&amp;&quot;7b&quot;');
    // The model's name also reaches the chart data (switch marks): as \u escapes, the same JSON.
    expect(chart('full', 'phase-2-switch-sequence').marks.some((mark) => mark.label === `to ${HOSTILE.model}`)).toBe(true);
  });

  test('renders the same report the same way: a local and a distributed run differ only in their data', () => {
    expect(renderHtmlReport(reports.full as RunReport)).toBe(pages.full);
    const local = { ...(reports.full as RunReport), mode: 'local' as const };
    const diff = renderHtmlReport(local)
      .split('\n')
      .filter((line) => !(pages.full as string).includes(line));
    expect(diff).toEqual(['<dt>mode</dt><dd>local</dd>'].map((row) => expect.stringContaining(row)));
  });
});

test('jsonForScript gives the same JSON with no character that could end a script or a line', () => {
  const value = { text: '</script><!-- & \u2028\u2029 -->', n: [1, null] };
  const json = jsonForScript(value);
  expect(json).not.toMatch(/[<>&\u2028\u2029]/);
  expect(JSON.parse(json)).toEqual(value);
});
