/**
 * The verdict card at the top of report.html: pass or fail, what failed, and the run's facts (plan,
 * run id, mode, duration, workers), with a link to each phase. Every string from the report is
 * escaped.
 */
import type { RunReport } from '../../../shared/run-report';
import { formatValue } from '../../../shared/units';
import { escapeHtml } from './html-escape';
import { verdictMark } from './verdict-mark';

function summary(report: RunReport): string {
  const criteria = report.phases.flatMap((phase) => phase.criteria.map((criterion) => ({ phase: phase.name, criterion })));
  if (report.passed) {
    return criteria.length > 0
      ? `All ${criteria.length} criteria passed.`
      : 'No criteria: this run only measures, and every phase completed.';
  }
  const failed = criteria.filter(({ criterion }) => !criterion.passed).map(({ phase, criterion }) => `${phase}: ${criterion.metric}`);
  const incomplete = report.phases.filter((phase) => phase.error !== null || phase.metrics.stopped !== null).map((phase) => phase.name);
  const parts = [];
  if (failed.length > 0) parts.push(`${failed.length} of ${criteria.length} criteria failed (${failed.join('; ')})`);
  if (incomplete.length > 0) parts.push(`phases that did not complete: ${incomplete.join(', ')}`);
  if (parts.length === 0) parts.push('a phase failed (its generator was not trustworthy and the plan fails on that)');
  return `${parts.join('; ')}.`;
}

function workers(report: RunReport): string {
  if (report.workers.length === 0) return 'none';
  return report.workers
    .map((worker) => `${worker.worker} (${worker.host}, Node ${worker.node}, ${worker.threads} threads on ${worker.cpus} cores)`)
    .map(escapeHtml)
    .join('<br>');
}

function facts(report: RunReport): string {
  const rows: Array<[string, string]> = [
    ['run id', `<code>${escapeHtml(report.runId)}</code>`],
    ['plan', `${escapeHtml(report.plan.source)} (seed ${report.plan.seed})`],
    ['mode', escapeHtml(report.mode)],
    ['started', `${escapeHtml(report.startedAt)}, finished ${escapeHtml(report.finishedAt)}`],
    ['duration', escapeHtml(formatValue('duration', report.durationMs))],
    [`workers (${report.workers.length})`, workers(report)],
    ['grym-perf', escapeHtml(`${report.tool.version}, Node ${report.tool.node}, ${report.tool.host} (${report.tool.platform})`)],
  ];
  return `<dl class="facts">${rows.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('')}</dl>`;
}

function phaseLinks(report: RunReport): string {
  const links = report.phases.map(
    (phase, index) =>
      `<a href="#phase-${index}">${verdictMark(phase.passed, 14)}${escapeHtml(phase.name)} ${phase.passed ? 'pass' : 'fail'}</a>`,
  );
  return `<nav class="phase-links" aria-label="phases">${links.join('')}</nav>`;
}

/** The card's HTML. */
export function verdictCard(report: RunReport): string {
  const word = report.passed ? 'PASS' : 'FAIL';
  const description = report.plan.description ? `<p>${escapeHtml(report.plan.description)}</p>` : '';
  return `<header class="verdict ${report.passed ? 'pass' : 'fail'}">
${verdictMark(report.passed, 44)}
<div>
<h1><span class="word">${word}</span> ${escapeHtml(report.plan.name)}</h1>
${description}<p class="summary">${escapeHtml(summary(report))}</p>
${facts(report)}
${phaseLinks(report)}
</div>
</header>`;
}
