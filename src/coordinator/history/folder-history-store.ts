/**
 * The local history: one gzipped JSON file per run (`<run id>.json.gz`) in a folder. Files rather
 * than an embedded database: nothing to install or lock, a CI cache or artifact keeps the folder
 * as it is, concurrent runs never write the same file, and a file is readable with `zcat`. Each
 * file is written beside its final name and renamed, so a reader never sees half of one.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { HISTORY_FORMAT_VERSION, summaryOf, type HistoryEntry, type HistorySummary } from './history-entry';
import { newestFirst, type HistoryFilter, type HistoryStore } from './history-store';

const SUFFIX = '.json.gz';

export class FolderHistoryStore implements HistoryStore {
  readonly where: string;

  constructor(private readonly dir: string) {
    this.where = resolve(dir);
  }

  async save(entry: HistoryEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${entry.runId}${SUFFIX}`);
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, gzipSync(JSON.stringify(entry)));
    await rename(partial, file);
  }

  async load(runId: string): Promise<HistoryEntry | undefined> {
    // Run ids are checked (letters, digits, . _ -) before they get here: no path escapes the folder.
    const text = await readFile(join(this.dir, `${runId}${SUFFIX}`)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!text) return undefined;
    const entry = JSON.parse(gunzipSync(text).toString('utf8')) as HistoryEntry;
    return entry.formatVersion === HISTORY_FORMAT_VERSION ? entry : undefined;
  }

  async list(filter: HistoryFilter = {}): Promise<HistorySummary[]> {
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    const summaries: HistorySummary[] = [];
    for (const name of names) {
      if (!name.endsWith(SUFFIX)) continue;
      const entry = await this.load(name.slice(0, -SUFFIX.length)).catch(() => undefined);
      if (entry && (filter.plan === undefined || entry.planName === filter.plan)) summaries.push(summaryOf(entry));
    }
    summaries.sort(newestFirst);
    return filter.limit === undefined ? summaries : summaries.slice(0, filter.limit);
  }

  async close(): Promise<void> {}
}
