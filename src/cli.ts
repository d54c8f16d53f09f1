#!/usr/bin/env node
/** The `grym-perf` executable: a thin shell over `main` (src/cli/program.ts). */
import { localRunThreads } from './cli/local-run-threads';
import { prestartWorkerPool, releasePrestartedPool } from './worker/prestarted-pool';

const argv = process.argv.slice(2);
// A local run's worker threads boot while the rest of the CLI loads: `program` is required after this.
const local = localRunThreads(argv);
if (local) prestartWorkerPool(local.threads);
const { main } = require('./cli/program') as typeof import('./cli/program');

void main(argv).then(async (code) => {
  await releasePrestartedPool().catch(() => undefined);
  process.exitCode = code;
});
