import { access, constants, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OutUnwritableError } from '../shared/errors';

/**
 * Makes sure reports can be written to `dir` before the first request is sent: a run is never
 * lost at its end to a typo in --out (or --csv). Creates the folder (as writing the reports would).
 */
export async function ensureWritableOut(dir: string, flag = '--out'): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new OutUnwritableError(dir, (error as NodeJS.ErrnoException).code ?? (error as Error).message, flag);
  }
}

/** The same for a file to be written at the end (`--requests FILE`): its folder writable, the name not a folder. */
export async function ensureWritableFile(file: string, flag: string): Promise<void> {
  await ensureWritableOut(dirname(file), flag);
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw new OutUnwritableError(file, 'a folder', flag);
}
