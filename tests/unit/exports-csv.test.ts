/**
 * `--csv DIR`: windows.csv and percentiles.csv carry exactly what the report holds, one row per
 * window and per distribution, quoted so a spreadsheet reads text from plans and servers as text.
 */
import { parse } from 'csv-parse/sync';
import { renderPercentilesCsv } from '../../src/coordinator/exports/percentiles-csv';
import { renderWindowsCsv } from '../../src/coordinator/exports/windows-csv';
import { fullSampleReport, noCriteriaSampleReport } from '../helpers/sample-report';

const rowsOf = (csv: string) => parse(csv, { columns: true }) as Array<Record<string, string>>;

test('windows.csv has one row per window of every phase, and its counts add up to the report', () => {
  const report = fullSampleReport();
  const rows = rowsOf(renderWindowsCsv(report));
  for (const phase of report.phases) {
    const phaseRows = rows.filter((row) => row.phase === phase.name);
    const points = phase.metrics.timeline.points;
    expect(phaseRows).toHaveLength(points.length);
    expect(phaseRows.map((row) => Number(row.window_start_ms))).toEqual(points.map((point) => point.tMs));
    const sum = (column: string) => phaseRows.reduce((total, row) => total + Number(row[column]), 0);
    expect(sum('ok')).toBe(phase.metrics.requests.ok);
    expect(sum('errors')).toBe(phase.metrics.requests.errors);
    // Every error class has a column, and the columns add up to the errors.
    const classColumns = Object.keys(phaseRows[0]!).filter((column) => column.startsWith('errors_'));
    expect(classColumns.reduce((total, column) => total + sum(column), 0)).toBe(sum('errors'));
    for (const [errorClass, count] of Object.entries(phase.metrics.requests.byClass)) expect(sum(`errors_${errorClass}`)).toBe(count);
  }
  const errorsPhase = rows.filter((row) => row.phase === 'errors');
  expect(errorsPhase.some((row) => Number(row.errors) > 0)).toBe(true);
  // Rates are per second of the window's own span (the last window is shorter).
  const first = rows[0]!;
  expect(Number(first.requests_per_s)).toBeCloseTo(((Number(first.ok) + Number(first.errors)) * 1000) / Number(first.span_ms), 6);
  expect(Number(first.e2e_p99_ms)).toBe(report.phases[0]!.metrics.timeline.points[0]!.e2e!.p99);
});

test('windows.csv leaves a cell empty where the report has no value (no streaming: no TTFT)', () => {
  const rows = rowsOf(renderWindowsCsv(noCriteriaSampleReport()));
  expect(rows.length).toBeGreaterThan(10);
  expect(rows.every((row) => row.ttft_p50_ms === '' && row.itl_p99_ms === '' && row.e2e_p50_ms !== '')).toBe(true);
  expect(rows.map((row) => row.stable)).toContain('true');
});

test('percentiles.csv has a row per phase and measured distribution, named as criteria name them', () => {
  const report = fullSampleReport();
  const rows = rowsOf(renderPercentilesCsv(report));
  const e2e = rows.find((row) => row.phase === 'ramp' && row.metric === 'latency.e2e')!;
  const summary = report.phases[0]!.metrics.latency.e2e!;
  expect(e2e).toMatchObject({ unit: 'ms', count: String(summary.count), p99: String(summary.p99), max: String(summary.max) });
  expect(rows.find((row) => row.phase === 'switching' && row.metric === 'switch.time')).toBeDefined();
  // A phase without switches has no switch rows.
  expect(rows.find((row) => row.phase === 'ramp' && row.metric === 'switch.time')).toBeUndefined();
});

test('a phase name that a spreadsheet would run as a formula is written as text', () => {
  const report = noCriteriaSampleReport();
  report.phases[0]!.name = '=HYPERLINK("http://evil.example","click"),"x"';
  for (const csv of [renderWindowsCsv(report), renderPercentilesCsv(report)]) {
    const rows = rowsOf(csv);
    expect(rows[0]!.phase).toBe(`'=HYPERLINK("http://evil.example","click"),"x"`);
    expect(csv).not.toMatch(/^=/m);
  }
});
