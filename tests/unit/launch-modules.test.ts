/**
 * What a local run loads before its first request: a launch must reach it in 250 ms (issue 12), and
 * every module on the way counts. Each case loads one entry in a fresh Node process and lists the
 * modules it loaded; a later change that pulls a heavy module back onto the launch path fails here.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Paths (relative to the repository) of the modules that loading `entry` loads. */
function modulesLoadedBy(entry: string, argv: string[] = []): string[] {
  const script = `
    process.argv.push(...${JSON.stringify(argv)});
    require(${JSON.stringify(join(ROOT, entry))});
    process.stdout.write(JSON.stringify(Object.keys(require.cache)));
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`loading ${entry} failed: ${child.stderr}`);
  return (JSON.parse(child.stdout) as string[]).map((path) => path.slice(ROOT.length + 1));
}

const loads = (modules: string[], pattern: RegExp) => modules.filter((path) => pattern.test(path));

describe('modules on the launch path', () => {
  test("a generator thread's module loads neither zod, yaml nor hdr-histogram-js's WebAssembly build and log formats", () => {
    const modules = modulesLoadedBy('src/worker/slice-thread.ts');
    expect(loads(modules, /^src\/worker\/run-slice\.ts$/)).toHaveLength(1);
    expect(loads(modules, /^node_modules\/hdr-histogram-js\/dist\/Int32Histogram\.js$/)).toHaveLength(1);
    expect(loads(modules, /^node_modules\/(zod|yaml)\//)).toEqual([]);
    expect(loads(modules, /^node_modules\/hdr-histogram-js\/dist\/(index|wasm\/|HistogramLogWriter|encoding)/)).toEqual([]);
  });

  test('the run command loads no other command, neither the mock nor the report writers, the distributed mode nor the progress bar', () => {
    const modules = modulesLoadedBy('src/cli/commands/run.ts');
    expect(loads(modules, /^src\/coordinator\/load-plan\.ts$/)).toHaveLength(1);
    expect(loads(modules, /^src\/cli\/commands\/(?!run\.ts)/)).toEqual([]);
    // The report is built from the run's results; writing it (HTML, Markdown, JUnit) waits for the end.
    expect(
      loads(modules, /^src\/(mock-llm|dashboard)\/|^src\/coordinator\/(reports\/(?!build-run-report)|distributed|statistics|trend)/),
    ).toEqual([]);
    expect(loads(modules, /^node_modules\/(bullmq|ioredis|express|@bull-board|xmlbuilder2|undici|cli-progress)\//)).toEqual([]);
  });

  test('the program loads no command until it is told which one', () => {
    expect(loads(modulesLoadedBy('src/cli/program.ts'), /^src\/cli\/commands\//)).toEqual([]);
  });
});
