/**
 * What a finished run tells beyond its reports, once they are written: the JUnit XML asked for
 * with `--junit`, the verdict appended to GitHub's job summary when `GITHUB_STEP_SUMMARY` is set,
 * and the plan's alert webhooks. None of them changes the verdict: a step summary that cannot be
 * written or a webhook that fails is reported on the console, and the exit code stays the verdict's.
 */
import type { Alerts } from '../../shared/alerts-schema';
import type { RunReport } from '../../shared/run-report';
import { sendAlerts } from '../alerts/send-alerts';
import { renderComparisonMarkdown, type RunComparison } from '../comparison';
import { reportPaths } from '../reports/write-reports';
import { writeJunitReport } from './junit-report';
import { regressionChecksOf } from './regression-checks';
import { appendStepSummary } from './step-summary';

export interface RunEndOutputs {
  report: RunReport;
  /** Where report.json, report.md and report.html were written. */
  outDir: string;
  junitFile?: string;
  /** The plan's alerts; only `run` calls them (a stored report was alerted on by the run that made it). */
  alerts?: Alerts;
  /** Against a baseline (`run --baseline`): each metric becomes a JUnit case, the Markdown joins the job summary, a regression alerts. */
  comparison?: RunComparison;
  /** Whether to append to `$GITHUB_STEP_SUMMARY` (`run` does; `report` of a stored run does not). */
  stepSummary?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Writes what follows a run's reports: --junit, the job summary, the alerts.
 * @public `run` loads this module with require() when a run ends (commands/run.ts), which knip does not follow.
 */
export async function publishRunEnd(outputs: RunEndOutputs): Promise<void> {
  const { report, junitFile, env = process.env } = outputs;
  const { comparison } = outputs;
  const checks = comparison ? regressionChecksOf(comparison) : [];
  if (junitFile !== undefined) {
    await writeJunitReport(junitFile, report, checks);
    console.log(`junit: ${junitFile}`);
  }
  if (outputs.stepSummary) {
    try {
      const file = await appendStepSummary(report, comparison ? renderComparisonMarkdown(comparison) : undefined, env);
      if (file) console.log('verdict appended to the job summary ($GITHUB_STEP_SUMMARY)');
    } catch (error) {
      const reason = (error as { code?: string } | null)?.code ?? String(error);
      console.error(`warning: cannot append the verdict to $GITHUB_STEP_SUMMARY (${reason}); the run's verdict stands`);
    }
  }
  if (outputs.alerts) {
    const paths = reportPaths(outputs.outDir);
    const reports = {
      json: paths.jsonPath,
      markdown: paths.markdownPath,
      html: paths.htmlPath,
      ...(junitFile !== undefined ? { junit: junitFile } : {}),
    };
    await sendAlerts({ report, alerts: outputs.alerts, regressions: checks, reports, env });
  }
}
