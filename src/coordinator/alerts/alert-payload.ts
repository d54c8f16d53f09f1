/**
 * What a webhook receives at the end of a run that failed, regressed or was aborted: a generic JSON
 * payload (plan, run id, verdict, failed criteria with their margins, why phases failed, the
 * regressions, where the reports are) or a Slack-compatible `{ text }`. Built from the report only,
 * so it holds what report.json holds and nothing from the environment: no key, no webhook URL.
 */
import type { AlertEvent } from '../../shared/alerts-schema';
import type { PhaseReport, RunReport } from '../../shared/run-report';
import { isRegressed, type RegressionCheck } from '../ci/regression-check';
import { untrustworthyFails } from '../ci/untrustworthy-fails';

/** Items listed per kind: a payload stays small whatever the plan holds. */
const MAX_LISTED = 50;

export interface AlertContext {
  report: RunReport;
  events: AlertEvent[];
  regressions: readonly RegressionCheck[];
  /** Where the reports were written, as the run printed them. */
  reports: Record<string, string>;
}

export interface AlertPayload {
  tool: 'grym-perf';
  version: string;
  events: AlertEvent[];
  verdict: 'passed' | 'failed' | 'interrupted';
  regressed: boolean;
  plan: { name: string; source: string };
  runId: string;
  mode: RunReport['mode'];
  host: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  failedCriteria: Array<{
    phase: string;
    metric: string;
    condition: string;
    value: number | null;
    threshold: number;
    /** value - threshold in the metric's base unit (ms, bytes, fraction, count); null without a value. */
    margin: number | null;
    verdict: string;
  }>;
  failedPhases: Array<{ phase: string; reasons: string[] }>;
  regressions: Array<{ phase: string; metric: string; detail: string }>;
  /** Lists cut at `MAX_LISTED` items: how many were left out of each. */
  omitted: { failedCriteria: number; failedPhases: number; regressions: number };
  reports: Record<string, string>;
  /** The same as the Slack text, without its formatting. */
  summary: string;
}

/**
 * Why a phase failed apart from its criteria. An untrustworthy generator is one only when the plan
 * makes it fail the phase (as in JUnit); otherwise it was reported, not failed on.
 */
function phaseReasons(report: RunReport, phase: PhaseReport): string[] {
  const { stopped, generator } = phase.metrics;
  return [
    ...(phase.error ? [`did not complete: ${phase.error.message}`] : []),
    ...(stopped ? [`stopped early: ${stopped.reason}`] : []),
    ...(untrustworthyFails(report, phase) ? [`load generator not trustworthy: ${generator.warnings.join('; ')}`] : []),
  ];
}

function verdictOf(report: RunReport): AlertPayload['verdict'] {
  if (report.aborted) return 'interrupted';
  return report.passed ? 'passed' : 'failed';
}

function headline(context: AlertContext): string {
  const { report } = context;
  const verdict = report.aborted ? 'INTERRUPTED' : report.passed ? 'PASS' : 'FAIL';
  const regressed = context.regressions.some(isRegressed) ? ', REGRESSED' : '';
  return `grym-perf: ${report.plan.name}: ${verdict}${regressed} (run ${report.runId}, ${report.mode}, on ${report.tool.host})`;
}

/** The lines under the headline: failed criteria, failed phases, regressions, the reports. */
function detailLines(payload: Omit<AlertPayload, 'summary'>): string[] {
  const more = (count: number) => (count > 0 ? [`… and ${count} more`] : []);
  return [
    ...payload.failedCriteria.map((c) => `${c.phase}: ${c.metric}: ${c.verdict}`),
    ...more(payload.omitted.failedCriteria),
    ...payload.failedPhases.flatMap((p) => p.reasons.map((reason) => `${p.phase}: ${reason}`)),
    ...more(payload.omitted.failedPhases),
    ...payload.regressions.map((r) => `${r.phase}: ${r.metric} regressed: ${r.detail}`),
    ...more(payload.omitted.regressions),
  ];
}

function cut<T>(items: T[]): { listed: T[]; omitted: number } {
  return { listed: items.slice(0, MAX_LISTED), omitted: Math.max(0, items.length - MAX_LISTED) };
}

export function buildAlertPayload(context: AlertContext): AlertPayload {
  const { report } = context;
  const failedCriteria = cut(
    report.phases.flatMap((phase) =>
      phase.criteria
        .filter((criterion) => !criterion.passed)
        .map((criterion) => ({
          phase: phase.name,
          metric: criterion.metric,
          condition: criterion.text,
          value: criterion.value,
          threshold: criterion.threshold,
          margin: criterion.margin,
          verdict: criterion.verdict,
        })),
    ),
  );
  const failedPhases = cut(
    report.phases.map((phase) => ({ phase: phase.name, reasons: phaseReasons(report, phase) })).filter((phase) => phase.reasons.length > 0),
  );
  const regressions = cut(
    context.regressions.filter(isRegressed).map((check) => ({ phase: check.phase, metric: check.metric, detail: check.detail })),
  );
  const payload: Omit<AlertPayload, 'summary'> = {
    tool: 'grym-perf',
    version: report.tool.version,
    events: context.events,
    verdict: verdictOf(report),
    regressed: regressions.listed.length > 0,
    plan: { name: report.plan.name, source: report.plan.source },
    runId: report.runId,
    mode: report.mode,
    host: report.tool.host,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    failedCriteria: failedCriteria.listed,
    failedPhases: failedPhases.listed,
    regressions: regressions.listed,
    omitted: { failedCriteria: failedCriteria.omitted, failedPhases: failedPhases.omitted, regressions: regressions.omitted },
    reports: context.reports,
  };
  const reportsLine = Object.values(context.reports).join(' ');
  const summary = [headline(context), ...detailLines(payload), ...(reportsLine ? [`reports: ${reportsLine}`] : [])].join('\n');
  return { ...payload, summary };
}

/** Slack reads `&`, `<` and `>` as markup (links, mentions): everything else is plain text. */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The Slack-compatible message: `{ text }`, the headline in bold, one bullet per detail. */
export function slackMessage(payload: AlertPayload): { text: string } {
  const [first = '', ...rest] = payload.summary.split('\n');
  return { text: [`*${slackEscape(first)}*`, ...rest.map((line) => `• ${slackEscape(line)}`)].join('\n') };
}
