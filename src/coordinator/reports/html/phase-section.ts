/**
 * One phase of report.html: its verdict and settings, banners for what went wrong (did not
 * complete, stopped early, generator not trustworthy), the key figures, a container per chart with
 * its caption, and the tables of errors, generator health and shards.
 */
import type { PhaseReport } from '../../../shared/run-report';
import { formatValue, type UnitKind } from '../../../shared/units';
import type { ChartPanel } from './chart-spec';
import { escapeHtml } from './html-escape';
import { errorClassesTable, generatorHealth, shardsTable } from './phase-details';
import type { PhaseCharts } from './phase-charts';
import type { PhaseSettings } from './phase-settings';
import { verdictMark, warningMark } from './verdict-mark';

function meta(phase: PhaseReport): string {
  const { load, durationMs } = phase.metrics;
  const loop = phase.scenario === 'model-switch' ? 'one conversation switching models' : `${load.mode} loop`;
  const shards = phase.shards.length === 1 ? '1 shard' : `${phase.shards.length} shards`;
  return escapeHtml(
    `${phase.scenario} scenario; models: ${phase.models.join(', ')}; ${loop}; ${formatValue('duration', durationMs)} measured; ${shards}`,
  );
}

function banners(phase: PhaseReport): string {
  const { stopped, generator } = phase.metrics;
  const list: string[] = [];
  if (phase.error) {
    list.push(`<p class="banner fail">${verdictMark(false)} <strong>Did not complete</strong>: ${escapeHtml(phase.error.message)}</p>`);
  }
  if (stopped) list.push(`<p class="banner fail">${verdictMark(false)} <strong>Stopped early</strong>: ${escapeHtml(stopped.reason)}</p>`);
  if (!generator.trustworthy) {
    const why = generator.warnings.length > 0 ? `: ${generator.warnings.join('; ')}` : '';
    list.push(`<p class="banner warn">${warningMark()} <strong>Results not trustworthy</strong>${escapeHtml(why)}</p>`);
  }
  return list.join('\n');
}

function stats(phase: PhaseReport): string {
  const { requests, throughput, latency, concurrency, stability } = phase.metrics;
  const tiles: Array<[string, UnitKind, number | null | undefined, string?]> = [
    ['requests', 'count', requests.total, `${requests.ok} ok, ${requests.errors} failed`],
    ['error rate', 'ratio', requests.errorRate],
    ['throughput', 'rate', throughput.requestsPerSecond],
    ['e2e p50', 'duration', latency.e2e?.p50],
    ['e2e p95', 'duration', latency.e2e?.p95],
    ['e2e p99', 'duration', latency.e2e?.p99],
    ['TTFT p95', 'duration', latency.ttft?.p95],
    ['output tokens', 'rate', throughput.outputTokensPerSecond],
    ['in flight (mean)', 'count', concurrency.mean, `requested ${concurrency.requested}, peak ${concurrency.peak}`],
    ['stability', 'ratio', stability.value, `${stability.stableWindows} of ${stability.windows} windows`],
  ];
  const html = tiles.map(([label, kind, value, detail]) => {
    const title = detail ? ` title="${escapeHtml(detail)}"` : '';
    const shown = escapeHtml(formatValue(kind, value));
    return `<div class="stat"${title}><div class="label">${label}</div><div class="value">${shown}</div></div>`;
  });
  return `<div class="stats">${html.join('')}</div>`;
}

function panel({ spec, caption }: ChartPanel): string {
  const title = escapeHtml(spec.title);
  return `<figure class="panel"><h3>${title}</h3><div class="chart" id="${escapeHtml(spec.id)}" role="img" aria-label="${title}"></div>
<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** The phase's HTML. */
export function phaseSection(phase: PhaseReport, index: number, settings: PhaseSettings, charts: PhaseCharts): string {
  const word = phase.passed ? 'PASS' : 'FAIL';
  const description = settings.description ? `<p>${escapeHtml(settings.description)}</p>` : '';
  const notDrawn =
    charts.notDrawn.length > 0
      ? `<ul class="not-drawn">${charts.notDrawn.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`
      : '';
  return `<section class="phase" id="phase-${index}">
<h2>${verdictMark(phase.passed, 22)}${escapeHtml(phase.name)} <span class="badge ${phase.passed ? 'pass' : 'fail'}">${word}</span></h2>
<p class="phase-meta">${meta(phase)}</p>
${description}${banners(phase)}
${stats(phase)}
<div class="charts">
${charts.panels.map(panel).join('\n')}
</div>
${notDrawn}
<div class="details">
${errorClassesTable(phase.metrics)}
${generatorHealth(phase.metrics)}
${shardsTable(phase)}
</div>
</section>`;
}
