#!/usr/bin/env node
/** The `grym-perf` executable: a thin shell over `main` (src/cli/program.ts). */
import { main } from './cli/program';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
