import { writeExports, type ExportRequest } from '../coordinator/exports/write-exports';
import { renderSummary } from '../coordinator/reports/console-summary';
import { writeReports } from '../coordinator/reports/write-reports';
import { EXIT } from '../shared/errors';
import type { RunReport } from '../shared/run-report';

/** Writes the reports (and the exports asked for), prints the summary and turns the verdict into the exit code. */
export async function finishRun(report: RunReport, outDir: string, exports: ExportRequest = {}): Promise<number> {
  const paths = await writeReports(report, outDir);
  const exported = await writeExports(report, exports);
  console.log(renderSummary(report));
  console.log(`reports: ${paths.jsonPath} ${paths.markdownPath} ${paths.htmlPath}`);
  if (exported.length > 0) console.log(`exports: ${exported.join(' ')}`);
  return report.passed ? EXIT.passed : EXIT.failed;
}
