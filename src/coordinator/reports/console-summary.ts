import type { RunReport } from '../../shared/run-report';
import { formatValue } from '../../shared/units';
import { topErrors, verdict } from './markdown-report';

/** Error classes named in the console, with their sample message. */
const SHOWN_ERROR_CLASSES = 3;
/** A sample is cut to this many characters on the console (report.md keeps more). */
const SAMPLE_CHARS = 160;

/** One line of a server's text: line breaks folded, cut short. */
const oneLine = (text: string) => {
  const folded = text.replace(/\s+/g, ' ').trim();
  return folded.length > SAMPLE_CHARS ? `${folded.slice(0, SAMPLE_CHARS - 1)}…` : folded;
};

/**
 * A few lines for the console: the verdict of every criterion, why a phase stopped early, and the
 * most frequent error classes with the first failure's message, so that 91 `http_400` come with
 * the server's reason.
 */
export function renderSummary(report: RunReport): string {
  const took = `${report.phases.length} phases in ${formatValue('duration', report.durationMs)}`;
  const outcome = report.aborted ? 'INTERRUPTED' : verdict(report.passed);
  const lines = [`${report.plan.name}: ${outcome} (${took}, run ${report.runId})`];
  if (report.aborted) lines.push('  the run was interrupted: the phases not started were skipped, the reports hold what was measured');
  for (const phase of report.phases) {
    lines.push(`  ${phase.name}: ${verdict(phase.passed)}${phase.error ? ` (${phase.error.message})` : ''}`);
    if (phase.metrics.stopped) lines.push(`    ⏹ stopped early: ${phase.metrics.stopped.reason}`);
    if (phase.metrics.memory.target.unreadable) lines.push(`    ✘ ${phase.metrics.memory.target.unreadable}`);
    for (const { errorClass, count, sample } of topErrors(phase.metrics.requests, SHOWN_ERROR_CLASSES))
      lines.push(`    ${errorClass} × ${count}${sample ? `: ${oneLine(sample)}` : ''}`);
    for (const warning of phase.metrics.generator.warnings) lines.push(`    ⚠ untrustworthy: ${warning}`);
    for (const criterion of phase.criteria) lines.push(`    ${criterion.passed ? '✔' : '✘'} ${criterion.metric}: ${criterion.verdict}`);
  }
  return lines.join('\n');
}
