/**
 * Reads the memory of the system under test: Ollama's /api/ps (the sum of the loaded models'
 * `size`, also served by the mock), or the resident set of a local server process and its
 * children from /proc. Returns null when the source has nothing to say; never throws.
 */
import { readFile, readdir } from 'node:fs/promises';
import { request } from 'undici';
import type { ResolvedTarget } from '../../shared/shard-task';

export type TargetMemoryReader = () => Promise<number | null>;

async function ollamaPsBytes(url: string): Promise<number | null> {
  try {
    const response = await request(`${url.replace(/\/$/, '')}/api/ps`, { headersTimeout: 2000, bodyTimeout: 2000 });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return null;
    }
    const body = (await response.body.json()) as { models?: Array<{ size?: number }> };
    return (body.models ?? []).reduce((sum, model) => sum + (model.size ?? 0), 0);
  } catch {
    return null;
  }
}

async function processTreePids(pid: number): Promise<number[]> {
  const pids = [pid];
  try {
    for (const thread of await readdir(`/proc/${pid}/task`)) {
      const children = (await readFile(`/proc/${pid}/task/${thread}/children`, 'utf8')).trim();
      for (const child of children ? children.split(/\s+/).map(Number) : []) pids.push(...(await processTreePids(child)));
    }
  } catch {
    // the process (or a child) ended meanwhile: count what is left
  }
  return pids;
}

/** VmRSS of a process and all its descendants, in bytes. */
export async function processTreeRssBytes(pid: number): Promise<number | null> {
  let total = 0;
  let found = false;
  for (const member of await processTreePids(pid)) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${member}/status`, 'utf8'));
      if (match) {
        total += Number(match[1]) * 1024;
        found = true;
      }
    } catch {
      // gone
    }
  }
  return found ? total : null;
}

export function targetMemoryReader(target: ResolvedTarget): TargetMemoryReader | undefined {
  const memory = target.memory;
  switch (memory.source) {
    case 'ollama-ps': {
      const url = memory.url ?? new URL(target.baseUrl).origin;
      return () => ollamaPsBytes(url);
    }
    case 'pid':
      return memory.pid === undefined ? undefined : () => processTreeRssBytes(memory.pid as number);
    case 'none':
      return undefined;
  }
}
