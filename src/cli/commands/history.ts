import { Command, Option } from 'commander';
import { historyOption, openHistory, historyRetentionOption, type HistoryFlags } from '../history-options';
import { positiveInt, prefixOption, redisOption, redisTimeoutOption, type SetExitCode } from '../options';

interface HistoryOptions extends HistoryFlags {
  plan?: string;
  limit?: number;
  json?: boolean;
  redisTimeout: number;
}

/** Pads each column to its widest cell. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function historyCommand(_setExitCode: SetExitCode): Command {
  return new Command('history')
    .description('list the runs kept in the history, newest first (a folder, or the Redis of distributed runs)')
    .option('--plan <name>', 'only the runs of this plan')
    .addOption(new Option('--limit <n>', 'at most this many runs').argParser(positiveInt))
    .option('--json', 'print the list as JSON')
    .addOption(historyOption())
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(redisTimeoutOption())
    .addOption(historyRetentionOption().hideHelp())
    .action(async (options: HistoryOptions) => {
      const store = await openHistory(options);
      try {
        const runs = await store.list({
          ...(options.plan !== undefined ? { plan: options.plan } : {}),
          ...(options.limit !== undefined ? { limit: options.limit } : {}),
        });
        if (options.json) {
          console.log(JSON.stringify(runs, null, 2));
          return;
        }
        if (runs.length === 0) {
          console.log(`no runs${options.plan !== undefined ? ` of plan ${options.plan}` : ''} in the history at ${store.where}`);
          return;
        }
        const rows = [['RUN ID', 'PLAN', 'STARTED', 'VERDICT', 'MODE', 'FINGERPRINT', 'PLAN HASH']];
        for (const run of runs) {
          rows.push([run.runId, run.planName, run.startedAt, run.verdict, run.mode, run.fingerprintHash, run.planHash.slice(0, 12)]);
        }
        console.log(table(rows));
        console.log(`${runs.length} run${runs.length === 1 ? '' : 's'} in the history at ${store.where}`);
      } finally {
        await store.close();
      }
    });
}
