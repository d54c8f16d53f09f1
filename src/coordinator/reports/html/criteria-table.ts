/**
 * The criteria of every phase in one table: value, threshold, pass or fail with the margin ("over
 * by 230 ms", "under by 12 %"), and a link to the chart the threshold is drawn on.
 */
import type { CriterionResult } from '../../../shared/criteria';
import { METRICS } from '../../../shared/phase-metrics';
import type { RunReport } from '../../../shared/run-report';
import { formatValue } from '../../../shared/units';
import { escapeHtml } from './html-escape';
import { verdictMark } from './verdict-mark';

/** Where a phase's criterion is drawn: the chart's DOM id, or undefined when no chart draws it. */
export type ChartOfCriterion = (phaseIndex: number, metric: string) => string | undefined;

/** "over by 230 ms" / "under by 12.00 %"; for a passed criterion it is the headroom. */
function marginWords(criterion: CriterionResult): string {
  if (criterion.value === null || criterion.margin === null) return 'no data';
  if (criterion.margin === 0) return 'at the threshold';
  return `${criterion.margin > 0 ? 'over' : 'under'} by ${formatValue(criterion.kind, Math.abs(criterion.margin))}`;
}

function row(phaseName: string, phaseIndex: number, criterion: CriterionResult, chartOf: ChartOfCriterion): string {
  const description = METRICS[criterion.metric]?.description ?? '';
  const chart = chartOf(phaseIndex, criterion.metric);
  const word = criterion.passed ? 'pass' : 'fail';
  const result = `<span class="result ${word}">${verdictMark(criterion.passed, 14)}${word}: ${escapeHtml(marginWords(criterion))}</span>`;
  return `<tr>
<td><a href="#phase-${phaseIndex}">${escapeHtml(phaseName)}</a></td>
<td><code>${escapeHtml(criterion.metric)}</code><div class="metric-description">${escapeHtml(description)}</div></td>
<td class="num">${escapeHtml(formatValue(criterion.kind, criterion.value))}</td>
<td class="num">${escapeHtml(`${criterion.op} ${formatValue(criterion.kind, criterion.threshold)}`)}</td>
<td>${result}</td>
<td>${chart ? `<a href="#${escapeHtml(chart)}">chart</a>` : ''}</td>
</tr>`;
}

/** The criteria section's HTML. */
export function criteriaTable(report: RunReport, chartOf: ChartOfCriterion): string {
  const rows = report.phases.flatMap((phase, index) => phase.criteria.map((criterion) => row(phase.name, index, criterion, chartOf)));
  if (rows.length === 0) {
    const advice = 'add <code>criteria</code> to a phase to judge it';
    return `<section id="criteria"><h2>Criteria</h2><p>No criteria: this run only measures (${advice}).</p></section>`;
  }
  return `<section id="criteria"><h2>Criteria</h2>
<table class="criteria">
<thead><tr><th>phase</th><th>metric</th><th class="num">value</th><th class="num">threshold</th>
<th>result and margin</th><th>drawn on</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></section>`;
}
