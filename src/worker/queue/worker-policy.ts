/**
 * What a shared worker gives to the plans it runs. Whoever can write to Redis can queue a shard, so
 * a shard is not trusted: it may name any environment variable as its API key and any file as its
 * module target. A worker therefore resolves only the variables its operator allowed (never
 * `GRYM_*`, which hold the worker's own Redis URL and settings) and loads modules only from the
 * folder its operator allowed. A shard asking for more fails before it sends a single request.
 * Local runs do not go through here: they read what their own user names.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { EnvNotAllowedError, EnvNotSetError, ModuleInvalidError, ModuleNotAllowedError, UsageError } from '../../shared/errors';
import type { ShardTask } from '../../shared/shard-task';

export interface WorkerPolicy {
  /** Environment variables a plan may name in `target.apiKeyEnv`; `GRYM_*` names are never in it. */
  readonly allowEnv: ReadonlySet<string>;
  /** Real path (symlinks resolved) of the folder module targets are loaded from; none: no module is loaded. */
  readonly allowModulesDir?: string;
}

/** The same shape as the plan schema's `apiKeyEnv`. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The worker's own variables: never given to a plan. Upper-cased, since Windows reads variables without case. */
function isReservedEnvName(name: string): boolean {
  return name.toUpperCase().startsWith('GRYM_');
}

/** The names in a comma-separated list (`--allow-env`, `GRYM_ALLOW_ENV`); a name that cannot be a variable is a usage error. */
export function parseEnvNames(list: string, where: string): string[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const invalid = names.find((name) => !ENV_NAME.test(name));
  if (invalid !== undefined) {
    throw new UsageError(`${where}: "${invalid}" is not an environment variable name`, 'list names such as OPENAI_API_KEY,VLLM_API_KEY');
  }
  return names;
}

/**
 * The policy from the operator's lists. `GRYM_*` names are dropped (and returned, so the worker can
 * say so); the modules folder must exist and is kept as its real path.
 */
export async function createWorkerPolicy(options: {
  allowEnv?: readonly string[];
  allowModulesDir?: string;
}): Promise<{ policy: WorkerPolicy; ignoredEnv: string[] }> {
  const names = [...new Set(options.allowEnv ?? [])];
  const policy: { allowEnv: Set<string>; allowModulesDir?: string } = {
    allowEnv: new Set(names.filter((name) => !isReservedEnvName(name))),
  };
  if (options.allowModulesDir !== undefined) policy.allowModulesDir = await realDirectory(options.allowModulesDir);
  return { policy, ignoredEnv: names.filter(isReservedEnvName) };
}

async function realDirectory(dir: string): Promise<string> {
  try {
    const real = await realpath(dir);
    if ((await stat(real)).isDirectory()) return real;
  } catch {
    // reported below, as for a file
  }
  throw new UsageError(`--allow-modules ${dir} is not a folder`, 'give the folder that holds the module targets this worker may load');
}

/** Whether `path` lies strictly inside `dir` (both real paths). */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !isAbsolute(rel) && rel.split(sep)[0] !== '..';
}

/** The real path of a module target, if the policy lets the worker load it; throws the reason otherwise. */
async function admitModule(modulePath: string, policy: WorkerPolicy, workerName: string): Promise<string> {
  const dir = policy.allowModulesDir;
  if (dir === undefined) throw new ModuleNotAllowedError(modulePath, workerName, undefined);
  let real: string | undefined;
  try {
    real = await realpath(modulePath);
  } catch {
    // A missing file inside the folder is the user's typo; outside it, whether it exists is none of the plan's business.
    if (isInside(dir, resolve(modulePath))) throw new ModuleInvalidError(modulePath, 'no such file on this worker');
    throw new ModuleNotAllowedError(modulePath, workerName, dir);
  }
  if (!isInside(dir, real)) throw new ModuleNotAllowedError(modulePath, workerName, dir);
  if (!(await stat(real)).isFile()) throw new ModuleInvalidError(modulePath, 'is not a file');
  return real;
}

/**
 * The shard as this worker will run it, or the policy's refusal (a `GrymError` naming the variable
 * or module and the flag that allows it). A module target's path becomes its real path, so the
 * threads load exactly the file that was checked, whatever a symlink points to later.
 */
export async function admitShardTask(
  task: ShardTask,
  policy: WorkerPolicy,
  workerName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ShardTask> {
  const { target } = task;
  if (target.kind === 'module') {
    return { ...task, target: { ...target, modulePath: await admitModule(target.modulePath, policy, workerName) } };
  }
  const name = target.apiKeyEnv;
  if (name) {
    if (isReservedEnvName(name) || !policy.allowEnv.has(name)) throw new EnvNotAllowedError(name, workerName);
    if (!env[name]) throw new EnvNotSetError(name, `on worker ${workerName}`);
  }
  return task;
}
