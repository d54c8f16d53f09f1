/**
 * Reads the memory of the system under test: Ollama's /api/ps (the sum of the loaded models'
 * `size`, also served by the mock), a Prometheus metric, or the resident set of a local server
 * process and its children from /proc. A reading that fails throws, with the reason in words, so
 * that the sampler can count it; HTTP readings are bounded in time and size, so a source that
 * drips, stalls or answers with a huge page cannot hold a phase open or fill the harness's memory.
 */
import { readFile, readdir } from 'node:fs/promises';
import type { TargetMemory } from '../../shared/resolved-target';
import { closest } from '../../shared/suggest';

export type TargetMemoryReader = () => Promise<number | null>;

/** Longest one HTTP reading may take, headers and body together. */
export const TARGET_READ_TIMEOUT_MS = 2000;
/** Largest body read from a memory source: an /api/ps answer is a few KiB, a vLLM /metrics page a few hundred. */
export const TARGET_READ_MAX_BYTES = 4 * 1024 * 1024;

/** The URL without credentials or query, for messages that end up in reports. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'the memory source';
  }
}

/** A reading that failed, its message already naming the source. */
class ReadFailure extends Error {}

/** The body of a GET, or a thrown reason: timed out, too large, an HTTP status, a network error. */
async function fetchText(url: string): Promise<string> {
  const signal = AbortSignal.timeout(TARGET_READ_TIMEOUT_MS);
  try {
    // Loaded on the first reading: a run's main thread imports this module at launch, and most runs read no HTTP memory source.
    const { request } = require('undici') as typeof import('undici');
    const response = await request(url, { signal });
    if (response.statusCode !== 200) {
      // Destroying an unread undici body emits an abort error: listened to, or it would crash the process.
      response.body.on('error', () => undefined).destroy();
      throw new ReadFailure(`${shown(url)} answered HTTP ${response.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      // Leaving the loop closes the response: the rest of a huge page is never read.
      if (bytes > TARGET_READ_MAX_BYTES) throw new ReadFailure(`${shown(url)} answered more than ${TARGET_READ_MAX_BYTES} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (error instanceof ReadFailure) throw error;
    if (signal.aborted) throw new ReadFailure(`${shown(url)} did not answer within ${TARGET_READ_TIMEOUT_MS} ms`);
    throw new ReadFailure(`${shown(url)}: ${(error as Error).message}`);
  }
}

async function ollamaPsBytes(url: string): Promise<number> {
  const psUrl = `${url.replace(/\/$/, '')}/api/ps`;
  const text = await fetchText(psUrl);
  let body: { models?: Array<{ size?: unknown }> } | null;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new ReadFailure(`${shown(psUrl)} did not answer JSON`);
  }
  const models = Array.isArray(body?.models) ? body.models : [];
  return models.reduce((sum, model) => sum + (typeof model?.size === 'number' ? model.size : 0), 0);
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
  const wantedLabels = wanted
    .split(',')
    .map((label) => label.trim())
    .filter(Boolean);
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

/** The metric names a Prometheus page exposes, for "did you mean". */
function metricNames(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/^([a-zA-Z_:][\w:]*)[{\s]/gm)) names.add(match[1] as string);
  return [...names];
}

async function prometheusReading(url: string, metric: string): Promise<number> {
  const text = await fetchText(url);
  const sum = sumPrometheusMetric(text, metric);
  if (sum !== null) return sum;
  const name = metric.replace(/\{.*$/, '');
  const guess = closest(name, metricNames(text));
  const hint = guess && guess !== name ? `: did you mean "${guess}"? (target.memory.metric)` : ' (target.memory.metric)';
  throw new ReadFailure(`${shown(url)} exposes no sample of ${metric}${hint}`);
}

async function pidBytes(pid: number): Promise<number> {
  const bytes = await processTreeRssBytes(pid);
  if (bytes === null) throw new ReadFailure(`process ${pid} is not running`);
  return bytes;
}

/** Reads the target's memory from where the plan says (throwing why a reading failed), or undefined when nothing is read. */
export function targetMemoryReader(memory: TargetMemory): TargetMemoryReader | undefined {
  switch (memory.source) {
    case 'ollama-ps':
      return () => ollamaPsBytes(memory.url);
    case 'pid':
      return () => pidBytes(memory.pid);
    case 'prometheus':
      return () => prometheusReading(memory.url, memory.metric);
    case 'none':
    case 'thread-heap':
      return undefined;
  }
}
