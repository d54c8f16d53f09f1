/**
 * GitHub Actions shows the Markdown a step appends to the file `$GITHUB_STEP_SUMMARY` names on the
 * job's summary page: `run` appends report.md's verdict part there (and the comparison, when a
 * baseline was given), so a failed job says why without opening an artifact.
 */
import { appendFile } from 'node:fs/promises';
import type { RunReport } from '../../shared/run-report';
import { renderMarkdownVerdict } from '../reports/markdown-report';

/** Appends the verdict when `GITHUB_STEP_SUMMARY` is set; the file it appended to, or undefined. */
export async function appendStepSummary(
  report: RunReport,
  comparisonMarkdown: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return undefined;
  const parts = [renderMarkdownVerdict(report), ...(comparisonMarkdown ? [comparisonMarkdown.trimEnd()] : [])];
  await appendFile(file, `${parts.join('\n')}\n`);
  return file;
}
