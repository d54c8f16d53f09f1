/**
 * The grym-perf command line: one file per command under `commands/`. Exit codes: 0 all criteria
 * passed (or the command succeeded), 1 a criterion failed, 2 invalid plan or usage error, 3 an
 * infrastructure failure (see `EXIT` and each error's `exitCode`).
 */
import { Command, CommanderError } from 'commander';
import { EXIT, exitCodesHelp, GrymError } from '../shared/errors';
import { toolVersion } from '../shared/tool-version';
import { compareCommand } from './commands/compare';
import { dashboardCommand } from './commands/dashboard';
import { historyCommand } from './commands/history';
import { mockLlmCommand } from './commands/mock-llm';
import { reportCommand } from './commands/report';
import { runCommand } from './commands/run';
import { trendCommand } from './commands/trend';
import { validateCommand } from './commands/validate';
import { workerCommand } from './commands/worker';
import type { SetExitCode } from './options';

export function buildProgram(setExitCode: SetExitCode): Command {
  const program = new Command('grym-perf')
    .description('Performance tests for LLM integrations: latency, memory, context retention, model switches, stability.')
    .version(toolVersion())
    .addHelpText('after', `\n${exitCodesHelp()}`)
    .showHelpAfterError('(run with --help for usage)');
  for (const command of [
    validateCommand,
    runCommand,
    workerCommand,
    reportCommand,
    historyCommand,
    compareCommand,
    trendCommand,
    dashboardCommand,
    mockLlmCommand,
  ]) {
    program.addCommand(command(setExitCode).showHelpAfterError('(run with --help for usage)'));
  }
  // Commander throws instead of exiting, for the program and every command: main() maps it to an exit code.
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and resolves to its exit code (never calls process.exit itself). */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.passed;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors were already printed.
      return error.exitCode === 0 ? EXIT.passed : EXIT.usage;
    }
    if (error instanceof GrymError) {
      console.error(`error ${error.code}: ${error.message}`);
      return error.exitCode;
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return EXIT.infrastructure;
  }
}
