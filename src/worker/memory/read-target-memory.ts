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

/**
 * Sums the samples of one metric in Prometheus text format. `metric` may carry labels,
 * `name{a="b"}`: a sample matches when it has the name and all those labels.
 */
export function sumPrometheusMetric(text: string, metric: string): number | null {
  const [, name, wanted = ''] = /^([^{]+)(?:\{(.*)\})?$/.exec(metric) ?? [];
  const wantedLabels = wanted.split(',').map((label) => label.trim()).filter(Boolean);
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = match[2] ?? '';
    if (!wantedLabels.every((label) => labels.includes(label))) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

async function prometheusBytes(url: string, metric: string): Promise<number | null> {
  try {
    const response = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
    const text = await response.body.text();
    return response.statusCode === 200 ? sumPrometheusMetric(text, metric) : null;
  } catch {
    return null;
  }
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
    case 'prometheus':
      return memory.url === undefined ? undefined : () => prometheusBytes(memory.url as string, memory.metric ?? 'process_resident_memory_bytes');
    case 'none':
      return undefined;
  }
}
