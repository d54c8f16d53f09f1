import { Command, Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import { loadEntries } from '../../coordinator/history';
import { buildTrend, type PlanTrend } from '../../coordinator/trend/build-trend';
import { renderTrendText } from '../../coordinator/trend/render-trend-text';
import { DEFAULT_TREND_RUNS } from '../../shared/defaults';
import { EXIT } from '../../shared/errors';
import { historyOption, openHistory, historyRetentionOption, type HistoryFlags } from '../history-options';
import { positiveInt, prefixOption, redisOption, redisTimeoutOption, type SetExitCode } from '../options';
import { ensureWritableFile } from '../writable-out';

interface TrendOptions extends HistoryFlags {
  plan: string;
  limit: number;
  json?: string;
  html?: string;
  redisTimeout: number;
}

/** `grym-perf trend --plan NAME`: read-only, exit 0 (2 for a usage error, 3 when the Redis history is away). */
export function trendCommand(setExitCode: SetExitCode): Command {
  return new Command('trend')
    .description(
      'each metric of a plan over its kept runs: change points (where the level moved) and the noise between them, one series per environment',
    )
    .requiredOption('--plan <name>', 'the plan whose runs to read (its `name:`)')
    .addOption(new Option('--limit <n>', 'read at most this many of its newest runs').argParser(positiveInt).default(DEFAULT_TREND_RUNS))
    .option('--json <file>', 'also write the trend as JSON there')
    .option('--html <file>', 'also write an HTML page with a chart per metric over runs, change points marked')
    .addOption(historyOption())
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(redisTimeoutOption())
    .addOption(historyRetentionOption().hideHelp())
    .action(async (options: TrendOptions) => {
      for (const [file, flag] of [
        [options.json, '--json'],
        [options.html, '--html'],
      ] as const) {
        if (file !== undefined) await ensureWritableFile(file, flag);
      }
      const store = await openHistory(options);
      let trend: PlanTrend;
      try {
        const entries = await loadEntries(store, await store.list({ plan: options.plan, limit: options.limit }));
        trend = buildTrend(options.plan, store.where, entries);
      } finally {
        await store.close();
      }
      console.log(renderTrendText(trend));
      if (options.json !== undefined) await writeFile(options.json, `${JSON.stringify(trend, null, 2)}\n`);
      if (options.html !== undefined) {
        const { renderTrendHtml } = await import('../../coordinator/trend/render-trend-html.js');
        await writeFile(options.html, renderTrendHtml(trend));
      }
      setExitCode(EXIT.passed);
    });
}
