/**
 * A real llama.cpp llama-server of the test's own, on a free loopback port, serving tiny
 * random-weight models (gibberish text, ~1 ms per token): a real peer for the real-server tests.
 *
 * The binary and the models are built offline by scripts/real-servers/prepare.sh into
 * `${GRYM_REAL_SERVERS_CACHE:-~/.cache/grym-perf}/llama.cpp-de3ff81/` (see realServersCache()).
 *
 * Single-model mode: `startLlamaServer({ model: 'tiny-a' })`.
 * Router mode (several models behind one endpoint, `"model"` in the body selects; with
 * modelsMax 1 every switch really unloads and loads): `startLlamaServer({ modelsDir: realServersCache().modelsDir, modelsMax: 1 })`.
 *
 * Worth knowing when writing tests against it (llama.cpp de3ff81):
 * - it closes the connection right after every streamed response (and, in router mode, after every
 *   proxied response) although it answers `Keep-Alive: timeout=5, max=100`;
 * - identical prompt prefixes are reused from the slot's cache (`cache_n`, `cached_tokens`) unless
 *   the request says `"cache_prompt": false`; the random models rarely but possibly emit EOS early
 *   (`"ignore_eos": true` makes `max_tokens` exact);
 * - router mode: `GET /metrics?model=X` (like any request naming a model) loads X unless `&autoload=false`;
 *   every load logs `spawning server instance with name=X` (see output(), linesSince()) and emits a `"loaded"`
 *   event on `GET /models/sse`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';

/** The llama.cpp commit node-llama-cpp@3.22.1 ships; the cache directory is named after it. */
const LLAMA_CPP_COMMIT = 'de3ff81';

export interface RealServersCache {
  /** `<cache>/llama.cpp-de3ff81` */
  dir: string;
  /** `<dir>/bin/llama-server` */
  binary: string;
  /** `<dir>/tiny-models`: the tiny GGUF models (usable as a router's --models-dir). */
  modelsDir: string;
  /** Model name (file name without .gguf, e.g. `tiny-a`, `tiny-b`) to its path. */
  models: Record<string, string>;
}

export interface StartLlamaServerOptions {
  /** Single-model mode: a model name from the models dir (`tiny-a`) or a .gguf path. Default `tiny-a` unless modelsDir is set. */
  model?: string;
  /** Router mode: serve every .gguf of this directory (models are loaded in child processes on demand). */
  modelsDir?: string;
  /** Router mode: how many models may be loaded at once (`--models-max`, llama-server's default 4). */
  modelsMax?: number;
  /** Slots, i.e. concurrent requests (`--parallel`); default 4. */
  parallel?: number;
  /** Total context, split between the slots (`-c`): each request gets ctxSize / parallel tokens (1024 by default); default 4096. */
  ctxSize?: number;
  /**
   * CPU threads (`--threads`); default 1. With llama.cpp's default (all cores) the tiny models'
   * per-token time swings 1-25 ms when anything else runs on a 2-core machine; with 1 thread it
   * stays ~1 ms/token at concurrency 1 (~4.5 ms per stream at 4 concurrent streams).
   */
  threads?: number;
  /** Enables `/metrics` (`--metrics`); default true. */
  metrics?: boolean;
  /** More llama-server arguments. */
  extraArgs?: string[];
  /** More environment variables for the server (LLAMA_ARG_* of the test process are not passed on). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for `GET /health` to answer 200; default 60 s. */
  startTimeoutMs?: number;
}

export interface TestLlamaServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  pid: number;
  /** The ids of the models this server serves (file names without .gguf: what `"model"` says in responses, and selects in router mode). */
  models: string[];
  /** The last lines (up to 20,000) of the server's stdout and stderr. */
  output(): string;
  /** How many complete lines the server has written so far: a mark for `linesSince`. */
  lineCount(): number;
  /**
   * The complete lines written after `mark` (a `lineCount()`), in order. Throws when some of them
   * were already dropped from the kept tail, rather than silently giving fewer.
   */
  linesSince(mark: number): string[];
  /** Stops the server (SIGTERM, then SIGKILL after `graceMs`, default 5 s) and waits for it and its model processes to exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Lines kept: a router forwards its models' logs too, about 10 lines per request; a few thousand requests fit. */
const MAX_LINES = 20_000;

export function realServersCache(): RealServersCache {
  const root = process.env.GRYM_REAL_SERVERS_CACHE || join(homedir(), '.cache', 'grym-perf');
  const dir = join(root, `llama.cpp-${LLAMA_CPP_COMMIT}`);
  const binary = join(dir, 'bin', 'llama-server');
  const modelsDir = join(dir, 'tiny-models');
  const models: Record<string, string> = {};
  if (existsSync(modelsDir)) {
    for (const file of readdirSync(modelsDir).sort()) {
      if (file.endsWith('.gguf')) models[file.slice(0, -'.gguf'.length)] = join(modelsDir, file);
    }
  }
  const missing = [!existsSync(binary) && binary, Object.keys(models).length === 0 && `${modelsDir}/*.gguf`].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(
      `llama-server test peer is not prepared (missing ${missing.join(' and ')}). ` +
        'Run `bash scripts/real-servers/prepare.sh` (builds llama.cpp offline, ~15 min on 2 cores, once) ' +
        'or `npm run test:real-servers`.',
    );
  }
  return { dir, binary, modelsDir, models };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function healthStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', method: 'GET', agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The router's model processes (children of `pid`), from /proc (Linux); empty elsewhere. */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

function isLlamaServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('llama-server');
  } catch {
    return false;
  }
}

async function startOnce(binary: string, args: string[], env: NodeJS.ProcessEnv, port: number, timeoutMs: number) {
  const lines: string[] = [];
  /** Lines dropped from the front of `lines`, so that line marks stay valid. */
  let dropped = 0;
  let partial = '';
  const child: ChildProcess = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // A test that forgets stop() must not leave the server behind (a router's models exit with it).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const onData = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > MAX_LINES) {
      dropped += lines.length - MAX_LINES;
      lines.splice(0, lines.length - MAX_LINES);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  void exited.then(() => process.removeListener('exit', killOnExit));
  const output = () => [...lines, partial].join('\n').trimEnd();
  const lineCount = () => dropped + lines.length;
  const linesSince = (mark: number) => {
    if (mark < dropped) throw new Error(`llama-server log: lines ${mark}..${dropped} were dropped (only the last ${MAX_LINES} are kept)`);
    return lines.slice(mark - dropped);
  };
  const tail = (n = 40) => output().split('\n').slice(-n).join('\n');

  const deadline = Date.now() + timeoutMs;
  let status = 0;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`could not start ${binary}: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      return {
        child,
        output,
        lineCount,
        linesSince,
        exited,
        ready: false as const,
        reason: `exited (${child.exitCode ?? child.signalCode}) before answering /health`,
      };
    }
    status = await healthStatus(port);
    if (status === 200) return { child, output, lineCount, linesSince, exited, ready: true as const, reason: '' };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  await exited;
  throw new Error(
    `llama-server on port ${port} did not answer GET /health with 200 within ${timeoutMs} ms (last status ${status || 'no answer'}); ` +
      `command: ${binary} ${args.join(' ')}\n--- last output ---\n${tail()}`,
  );
}

/** Starts llama-server on a free loopback port and resolves once `GET /health` answers 200. */
export async function startLlamaServer(options: StartLlamaServerOptions = {}): Promise<TestLlamaServer> {
  const cache = realServersCache();
  const args: string[] = [];
  let models: string[];
  if (options.modelsDir !== undefined) {
    if (options.model !== undefined) throw new Error('startLlamaServer: give either model or modelsDir, not both');
    args.push('--models-dir', options.modelsDir);
    if (options.modelsMax !== undefined) args.push('--models-max', String(options.modelsMax));
    models = existsSync(options.modelsDir)
      ? readdirSync(options.modelsDir)
          .filter((f) => f.endsWith('.gguf'))
          .map((f) => f.slice(0, -'.gguf'.length))
          .sort()
      : [];
  } else {
    const model = options.model ?? 'tiny-a';
    const path = model.endsWith('.gguf') || isAbsolute(model) ? model : cache.models[model];
    if (!path || !existsSync(path)) {
      throw new Error(`startLlamaServer: unknown model ${model} (known: ${Object.keys(cache.models).join(', ')}, or a .gguf path)`);
    }
    // As in router mode, the model's id (`"model"` in responses, /v1/models) is its name, not its path.
    const id = basename(path).replace(/\.gguf$/, '');
    args.push('-m', path, '--alias', id);
    models = [id];
  }
  args.push('--parallel', String(options.parallel ?? 4), '-c', String(options.ctxSize ?? 4096));
  args.push('--threads', String(options.threads ?? 1));
  if (options.metrics ?? true) args.push('--metrics');
  args.push(...(options.extraArgs ?? []));

  // No LLAMA_ARG_* from the test's environment; the router also lists models of LLAMA_CACHE
  // (Hugging Face downloads), so point it at an empty directory of ours.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('LLAMA_ARG_')) env[key] = value;
  env.LLAMA_CACHE = join(cache.dir, 'llama-cache-empty');
  mkdirSync(env.LLAMA_CACHE, { recursive: true });
  Object.assign(env, options.env);

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const fullArgs = [...args, '--host', '127.0.0.1', '--port', String(port)];
    const started = await startOnce(cache.binary, fullArgs, env, port, timeoutMs);
    const { child, output, lineCount, linesSince, exited } = started;
    if (!started.ready) {
      await exited;
      // Another process may have taken the port between freePort() and the bind: try another.
      if (attempt < 3 && /bind|address already in use/i.test(output())) continue;
      throw new Error(
        `llama-server ${started.reason}; command: ${cache.binary} ${fullArgs.join(' ')}\n--- last output ---\n${output().split('\n').slice(-40).join('\n')}`,
      );
    }
    const pid = child.pid as number;
    const stop = async (graceMs = 5_000) => {
      const descendants = childPids(pid);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Router mode: its model processes exit when the router does (EOF on their stdin); make sure.
      const deadline = Date.now() + graceMs;
      for (const p of descendants) {
        while (alive(p) && isLlamaServer(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (alive(p) && isLlamaServer(p)) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // exited meanwhile
          }
        }
      }
    };
    return { url: `http://127.0.0.1:${port}`, port, pid, models, output, lineCount, linesSince, stop };
  }
}
