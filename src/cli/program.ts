/**
 * The grym-perf command line: one file per command under `commands/`. Exit codes: 0 all criteria
 * passed (or the command succeeded), 1 a criterion failed, 2 invalid plan or usage error, 3 an
 * infrastructure failure (see `EXIT` and each error's `exitCode`).
 */
import { Command, CommanderError } from 'commander';
import { EXIT, exitCodesHelp, GrymError } from '../shared/errors';
import { toolVersion } from '../shared/tool-version';
import type { SetExitCode } from './options';

type CommandFactory = (setExitCode: SetExitCode) => Command;

/**
 * The commands, in the order help lists them, each loaded when asked for: a command line names one
 * command, and loading only that one keeps the others' modules (reports, statistics, the mock, the
 * dashboard) out of a run's launch. Help and unknown commands load them all.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => CommandFactory]> = [
  ['validate', () => (require('./commands/validate') as typeof import('./commands/validate')).validateCommand],
  ['run', () => (require('./commands/run') as typeof import('./commands/run')).runCommand],
  ['worker', () => (require('./commands/worker') as typeof import('./commands/worker')).workerCommand],
  ['report', () => (require('./commands/report') as typeof import('./commands/report')).reportCommand],
  ['history', () => (require('./commands/history') as typeof import('./commands/history')).historyCommand],
  ['compare', () => (require('./commands/compare') as typeof import('./commands/compare')).compareCommand],
  ['trend', () => (require('./commands/trend') as typeof import('./commands/trend')).trendCommand],
  ['dashboard', () => (require('./commands/dashboard') as typeof import('./commands/dashboard')).dashboardCommand],
  ['mock-llm', () => (require('./commands/mock-llm') as typeof import('./commands/mock-llm')).mockLlmCommand],
];

/** The program with every command, or with only `commandName`'s when it names one. */
export function buildProgram(setExitCode: SetExitCode, commandName?: string): Command {
  const program = new Command('grym-perf')
    .description('Performance tests for LLM integrations: latency, memory, context retention, model switches, stability.')
    .version(toolVersion())
    .addHelpText('after', `\n${exitCodesHelp()}`)
    .showHelpAfterError('(run with --help for usage)');
  const named = COMMANDS.filter(([name]) => name === commandName);
  for (const [, load] of named.length > 0 ? named : COMMANDS) {
    program.addCommand(load()(setExitCode).showHelpAfterError('(run with --help for usage)'));
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
  }, argv[0]);
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
