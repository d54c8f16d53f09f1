import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import type { NoiseCalibration } from '../../coordinator/comparison';
import { resolveRunRef, type HistoryEntry, type HistoryStore } from '../../coordinator/history';
import { EXIT } from '../../shared/errors';
import { historyOption, openHistory, historyRetentionOption, type HistoryFlags } from '../history-options';
import { prefixOption, redisOption, redisTimeoutOption, type SetExitCode } from '../options';
import { ensureWritableFile } from '../writable-out';

interface CompareOptions extends HistoryFlags {
  plan?: string;
  markdown?: string;
  html?: string;
  json?: string;
  redisTimeout: number;
}

const isLatest = (ref: string) => /^latest(~\d+)?$/.test(ref);

/**
 * Both runs; `latest` refs are resolved last, within the plan of the other run when --plan is not
 * given (so `compare latest~1 latest` and `compare <id> latest` stay within one plan).
 */
async function resolvePair(
  store: HistoryStore,
  baseRef: string,
  newRef: string,
  plan: string | undefined,
): Promise<[HistoryEntry, HistoryEntry]> {
  const fixed = new Map<string, HistoryEntry>();
  for (const ref of [baseRef, newRef]) if (!isLatest(ref) && !fixed.has(ref)) fixed.set(ref, await resolveRunRef(store, ref));
  const planOfOther = plan ?? [...fixed.values()][0]?.planName;
  const resolve = async (ref: string) =>
    fixed.get(ref) ?? resolveRunRef(store, ref, planOfOther === undefined ? {} : { plan: planOfOther });
  return [await resolve(baseRef), await resolve(newRef)];
}

export function compareCommand(setExitCode: SetExitCode): Command {
  return new Command('compare')
    .description(
      'compare two runs phase by phase and metric by metric: regressed, improved, unchanged or inconclusive; exit 1 on a regression',
    )
    .argument('<base>', 'the run to compare against: a run id, latest, latest~N, or a report.json path')
    .argument('<new>', 'the run to judge: a run id, latest, latest~N, or a report.json path')
    .option('--plan <name>', 'latest and latest~N count runs of this plan (default: the plan of the other run, else any)')
    .option('--markdown <file>', 'also write the comparison as Markdown there (for a pull request comment)')
    .option('--html <file>', "also write an HTML page with both runs' latencies over time overlaid")
    .option('--json <file>', 'also write the comparison as JSON there')
    .addOption(historyOption())
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(redisTimeoutOption())
    .addOption(historyRetentionOption().hideHelp())
    .action(async (baseRef: string, newRef: string, options: CompareOptions) => {
      for (const [file, flag] of [
        [options.markdown, '--markdown'],
        [options.html, '--html'],
        [options.json, '--json'],
      ] as const) {
        if (file !== undefined) await ensureWritableFile(file, flag);
      }
      const store = await openHistory(options);
      let pair: [HistoryEntry, HistoryEntry];
      let calibration: NoiseCalibration;
      try {
        pair = await resolvePair(store, baseRef, newRef, options.plan);
        // The noise of the runs like NEW widens the default thresholds of noisy metrics.
        calibration = await (await import('../../coordinator/trend/noise-calibration.js')).loadNoiseCalibration(store, pair[1]);
      } finally {
        await store.close();
      }
      // Loaded when a comparison runs: its statistics cost every other command ~120 ms at launch.
      const { compareRuns, renderComparisonMarkdown } =
        require('../../coordinator/comparison') as typeof import('../../coordinator/comparison');
      const comparison = compareRuns(...pair, calibration);
      const markdown = renderComparisonMarkdown(comparison);
      console.log(markdown);
      if (options.markdown !== undefined) await writeFile(options.markdown, markdown);
      if (options.json !== undefined) await writeFile(options.json, `${JSON.stringify(comparison, null, 2)}\n`);
      if (options.html !== undefined) {
        const { renderComparisonHtml } = await import('../../coordinator/comparison/comparison-html.js');
        await writeFile(options.html, renderComparisonHtml(comparison, pair[0].report, pair[1].report));
      }
      setExitCode(comparison.verdict === 'regressed' ? EXIT.failed : EXIT.passed);
    });
}
