/**
 * A comparison as Markdown for a pull request comment or a CI summary: the verdict first, then
 * every reason the runs may not be alike, then one table per phase (both values, the change, the
 * verdict and why), then what the verdicts mean.
 */
import type { RegressionScale } from '../../shared/regression-schema';
import { formatValue } from '../../shared/units';
import { escapeMarkdown } from '../reports/markdown-report';
import type { ComparedRun, RunComparison } from './compare-runs';
import { formatChange } from './explain-verdict';
import type { MetricComparison } from './metric-comparison';
import { thresholdCell, whyCell } from './threshold-words';
import type { Verdict } from './verdict';

const MARKS: Record<Verdict, string> = {
  regressed: '❌ regressed',
  improved: '🚀 improved',
  unchanged: '✅ unchanged',
  inconclusive: '❔ inconclusive',
};

function formatScaled(scale: RegressionScale, value: number | null): string {
  return formatValue(scale === 'duration' ? 'duration' : scale === 'rate' ? 'rate' : 'ratio', value);
}

function changeCell(row: MetricComparison): string {
  if (row.difference === null) return 'n/a';
  if (row.scale === 'ratio') return formatChange('points', row.difference);
  const absolute =
    row.scale === 'duration'
      ? formatChange('absolute', row.difference)
      : `${row.difference >= 0 ? '+' : ''}${row.difference.toFixed(2)} /s`;
  return row.relativeChange === null ? absolute : `${absolute} (${formatChange('relative', row.relativeChange)})`;
}

function runLine(label: string, run: ComparedRun): string {
  const verdict = run.aborted ? 'aborted' : run.passed ? 'passed' : 'failed';
  const from = run.source === 'report file' ? ', from a report file' : '';
  return `- **${label}**: \`${escapeMarkdown(run.runId)}\` (plan \`${escapeMarkdown(run.planName)}\`, started ${run.startedAt}, ${verdict}, fingerprint \`${run.fingerprint.hash}\`${from})`;
}

function row(metric: MetricComparison): string {
  return `| \`${metric.metric}\` | ${formatScaled(metric.scale, metric.base)} | ${formatScaled(metric.scale, metric.new)} | ${changeCell(metric)} | ${escapeMarkdown(thresholdCell(metric))} | ${MARKS[metric.verdict]} | ${escapeMarkdown(whyCell(metric))} |`;
}

/** What each verdict means: the same words as the README's "History and comparison". */
export const VERDICT_DEFINITIONS: Record<Verdict, string> = {
  regressed: 'the confidence interval of the change lies wholly on the worse side of zero, and the change is larger than the threshold',
  improved: 'the same on the better side',
  unchanged: 'the whole confidence interval lies within ± the threshold: any change is smaller than what matters',
  inconclusive: 'anything else: too few samples, or an interval that reaches past the threshold without a significant change beyond it',
};

export function renderComparisonMarkdown(comparison: RunComparison): string {
  const counts = (['regressed', 'improved', 'unchanged', 'inconclusive'] as const)
    .map(
      (verdict) =>
        [verdict, comparison.phases.reduce((sum, phase) => sum + phase.metrics.filter((m) => m.verdict === verdict).length, 0)] as const,
    )
    .filter(([, count]) => count > 0)
    .map(([verdict, count]) => `${count} ${verdict}`);
  const lines = [
    `## grym-perf comparison: ${comparison.verdict.toUpperCase()}`,
    '',
    `${MARKS[comparison.verdict]}: ${counts.length > 0 ? counts.join(', ') : 'no metric could be compared'}.`,
    '',
    runLine('BASE', comparison.base),
    runLine('NEW', comparison.new),
    '',
  ];
  if (comparison.warnings.length > 0) {
    lines.push('> [!WARNING]', '> **These runs are not like for like:**');
    for (const warning of comparison.warnings) lines.push(`> - ${escapeMarkdown(warning)}`);
    lines.push('');
  }
  for (const phase of comparison.phases) {
    lines.push(`### Phase \`${escapeMarkdown(phase.phase)}\``, '');
    if (phase.metrics.length === 0) {
      lines.push('No judged metric was measured in this phase.', '');
      continue;
    }
    lines.push('| Metric | BASE | NEW | Change | Threshold | Verdict | Why |', '|---|---:|---:|---:|---:|---|---|');
    for (const metric of phase.metrics) lines.push(row(metric));
    lines.push('');
  }
  if (comparison.widened > 0) {
    lines.push(
      `Thresholds: ${comparison.widened} default${comparison.widened === 1 ? ' was' : 's were'} widened by the run-to-run noise the history shows for runs like NEW (same plan, workload and environment; see \`grym-perf trend\`). A threshold the plan sets is never changed.`,
      '',
    );
  }
  if (comparison.notJudged.length > 0)
    lines.push(`Not judged (\`off\` in \`regression:\`): ${comparison.notJudged.map((m) => `\`${m}\``).join(', ')}.`, '');
  lines.push(
    '<details><summary>What the verdicts mean</summary>',
    '',
    ...(['regressed', 'improved', 'unchanged', 'inconclusive'] as const).map(
      (verdict) => `- **${verdict}**: ${VERDICT_DEFINITIONS[verdict]}.`,
    ),
    '',
    "Latency percentiles: bootstrap interval of the percentile on the whole-phase HdrHistograms; throughput: the same on the median full window; ratios: Newcombe interval of the difference of the counts. Thresholds: the plan's `regression:` block, else the defaults, widened for a latency or the throughput when at least 5 earlier runs like NEW at the current level show more noise (the larger of the default and twice the 95th percentile of their A/A differences). Timings of a run whose load generator was not trustworthy are not judged.",
    '</details>',
    '',
  );
  return lines.join('\n');
}
