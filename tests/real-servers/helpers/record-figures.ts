/**
 * Figures the real-server tests measure (grym-perf against the server's own truth), printed and
 * written to `test-results/real-servers/<case>.json` before a test asserts, so a failing test
 * still says by how much. They feed the closing note's table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(__dirname, '..', '..', '..', 'test-results', 'real-servers');

/** Writes `figures` as `test-results/real-servers/<testCase>.json` and prints them on one line. */
export function recordFigures(testCase: string, figures: Record<string, unknown>): void {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, `${testCase}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`[real-servers] ${testCase}: ${JSON.stringify(figures)}`);
}

/** Milliseconds rounded to 0.01 for figures. */
export const ms = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(value * 100) / 100);
