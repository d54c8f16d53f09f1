/**
 * What `bench:scale` needs before it makes anything: root, iproute2, redis-server, cgroup v1 `cpu`
 * and `cpuacct` hierarchies, and a built grym-perf. Each missing piece is named with its fix.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { createCpuGroup } from './simulated-hosts';

const execFileAsync = promisify(execFile);

async function hasCommand(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await execFileAsync(command, [...args], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Resolves to the problems found (empty: ready to run). Makes and removes one CPU group to test cgroup v1. */
export async function scalePrerequisites(cli: string): Promise<string[]> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('needs root (network namespaces and cgroups): run it as root, e.g. `sudo npm run bench:scale`');
  if (!(await hasCommand('ip', ['-V']))) problems.push('`ip` not found: apt-get install iproute2');
  if (!(await hasCommand('redis-server', ['--version']))) problems.push('`redis-server` not found: apt-get install redis-server');
  if (!existsSync(cli)) problems.push(`${cli} not found: run \`npm run build\` first`);
  if (problems.length === 0) {
    try {
      const group = await createCpuGroup('preflight', { cpuShareOfOneCore: 0.1 });
      await group.destroy();
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}
