/** Reads a plan file (YAML or JSON), validates it, and checks a module target's exports once. */
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ModuleInvalidError, PlanInvalidError, PlanUnreadableError } from '../shared/errors';
import { loadGrymModule } from '../shared/grym-module';
import { MAX_PLAN_BYTES, planTooLarge, readPlan, type LoadedPlan } from '../shared/parse-plan';

/**
 * The file's bytes, or a plan error when there are more than MAX_PLAN_BYTES: the size is checked
 * before anything is read, and the read stops one byte past the limit, since a special file
 * (/dev/zero, a pipe) or a file still growing says nothing true in its size.
 */
async function readBounded(file: FileHandle, path: string): Promise<Buffer> {
  const { size } = await file.stat();
  if (size > MAX_PLAN_BYTES) throw new PlanInvalidError(path, [planTooLarge(size)]);
  const buffer = Buffer.alloc(MAX_PLAN_BYTES + 1);
  let length = 0;
  while (length < buffer.length) {
    const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  if (length > MAX_PLAN_BYTES) throw new PlanInvalidError(path, [planTooLarge()]);
  return buffer.subarray(0, length);
}

async function readPlanText(path: string): Promise<string> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'r');
    return (await readBounded(file, path)).toString('utf8');
  } catch (error) {
    if (error instanceof PlanInvalidError) throw error;
    throw new PlanUnreadableError(path, (error as NodeJS.ErrnoException).code ?? (error as Error).message, error);
  } finally {
    await file?.close();
  }
}

export async function loadPlan(path: string): Promise<LoadedPlan> {
  const text = await readPlanText(path);
  const loaded = readPlan(text, path);
  const { target } = loaded.plan;
  if (target.kind === 'module') {
    const modulePath = resolve(dirname(path), target.module);
    if (!existsSync(modulePath)) {
      throw new PlanInvalidError(path, [
        `target.module: no file at ${modulePath}: give the path of your integration module, relative to the plan file`,
      ]);
    }
    try {
      await loadGrymModule(modulePath);
    } catch (error) {
      if (error instanceof ModuleInvalidError) throw new PlanInvalidError(path, [`target.module: ${error.message}`]);
      throw error;
    }
  }
  return loaded;
}
