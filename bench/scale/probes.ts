/**
 * Tiny Node programs run on simulated hosts (`node -e SOURCE args...`) and the helpers that start
 * them and read their one line of JSON. Each program is bounded in time or count and talks only
 * to the address it is given (a simulated host's or loopback).
 */
import type { ChildProcess } from 'node:child_process';
import type { CpuGroup, SimulatedHost } from './simulated-hosts';

/**
 * HTTP server: `node -e HTTP_SERVER host port workIterations`. Answers every request with a small
 * JSON body after `workIterations` rounds of arithmetic (fixed CPU work, not wall time, so a
 * throttled server does the same work per request). Prints `listening host:port`.
 */
export const HTTP_SERVER = `
const http = require('http');
const [host, port, work] = process.argv.slice(1);
const iterations = Number(work || 0);
const body = JSON.stringify({ ok: true });
let sink = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    for (let i = 0; i < iterations; i++) sink += Math.sqrt(i);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'x-sink': String(sink % 10) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(port), host, () => console.log('listening ' + host + ':' + server.address().port));
`;

/**
 * Closed-loop HTTP client: `node -e HTTP_LOAD url concurrency startAtMs endAtMs`. Keeps
 * `concurrency` keep-alive requests in flight until `endAtMs` (epoch ms) and counts those started
 * at or after `startAtMs` and finished by `endAtMs`, so its own start-up is outside the window.
 * Prints one JSON line: completed, errors, windowS, p50Us, p90Us, p99Us, maxUs, cpuS (its own CPU
 * seconds since start-up), perSecond (completions in each second of the window).
 */
export const HTTP_LOAD = `
const http = require('http');
const url = process.argv[1];
const [concurrency, startAt, endAt] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const latenciesUs = [];
const perSecond = new Array(Math.ceil((endAt - startAt) / 1000)).fill(0);
let errors = 0;
function one() {
  return new Promise((resolve) => {
    const startedWall = Date.now();
    const started = process.hrtime.bigint();
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        const now = Date.now();
        if (startedWall >= startAt && now <= endAt) {
          latenciesUs.push(Number(process.hrtime.bigint() - started) / 1e3);
          perSecond[Math.floor((now - startAt) / 1000)]++;
        }
        resolve();
      });
    });
    req.on('error', () => { errors++; setTimeout(resolve, 10); });
  });
}
async function lane() { while (Date.now() < endAt) await one(); }
const cpuBefore = process.cpuUsage();
Promise.all(Array.from({ length: concurrency }, lane)).then(() => {
  latenciesUs.sort((a, b) => a - b);
  const q = (p) => latenciesUs.length ? Math.round(latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(p * latenciesUs.length))]) : null;
  const cpu = process.cpuUsage(cpuBefore);
  console.log(JSON.stringify({ completed: latenciesUs.length, errors, windowS: (endAt - startAt) / 1000,
    p50Us: q(0.5), p90Us: q(0.9), p99Us: q(0.99), maxUs: q(1), cpuS: (cpu.user + cpu.system) / 1e6, perSecond }));
  agent.destroy();
});
`;

/** TCP echo server: `node -e TCP_ECHO host port`. Prints `listening host:port`. */
export const TCP_ECHO = `
const net = require('net');
const [host, port] = process.argv.slice(1);
const server = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); });
server.listen(Number(port), host, () => console.log('listening ' + host + ':' + server.address().port));
`;

/**
 * TCP ping-pong: `node -e TCP_PING host port count warmup`. Sends one byte, waits for its echo,
 * `warmup + count` times; prints JSON with the round-trip percentiles of the last `count`.
 */
export const TCP_PING = `
const net = require('net');
const [host, port, count, warmup] = process.argv.slice(1);
const total = Number(count) + Number(warmup);
const rttsUs = [];
let sent = 0, t0 = 0n;
const socket = net.connect(Number(port), host, () => {
  socket.setNoDelay(true);
  const send = () => { sent++; t0 = process.hrtime.bigint(); socket.write('x'); };
  socket.on('data', () => {
    const rtt = Number(process.hrtime.bigint() - t0) / 1e3;
    if (sent > Number(warmup)) rttsUs.push(rtt);
    if (sent < total) return send();
    rttsUs.sort((a, b) => a - b);
    const q = (p) => Math.round(rttsUs[Math.min(rttsUs.length - 1, Math.floor(p * rttsUs.length))] * 10) / 10;
    const mean = rttsUs.reduce((a, b) => a + b, 0) / rttsUs.length;
    console.log(JSON.stringify({ count: rttsUs.length, p50Us: q(0.5), p90Us: q(0.9), p99Us: q(0.99), meanUs: Math.round(mean * 10) / 10 }));
    socket.end();
  });
  send();
});
socket.setTimeout(10000, () => { console.error('timeout'); process.exit(2); });
`;

/** Endless busy loop: `node -e BUSY_LOOP`. Uses one core until killed. */
export const BUSY_LOOP = 'for (;;) {}';

/** Resolves with the first stdout line matching `pattern`; rejects on exit or timeout. */
function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let stderr = '';
    const finish = (error?: Error, line?: string): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(line!);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const line = seen.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) finish(undefined, line);
    };
    const onExit = (code: number | null): void => finish(new Error(`exited (${code}) before printing ${pattern}: ${seen}${stderr}`));
    const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms: ${seen}${stderr}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Runs a probe to completion on `host` (optionally inside `cpuGroup`) and parses its JSON line. */
export function runProbe<T>(host: SimulatedHost, source: string, args: readonly string[], options: { cpuGroup?: CpuGroup; timeoutMs: number }): Promise<T> {
  const child = host.exec(process.execPath, ['-e', source, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cpuGroup ? { cpuGroup: options.cpuGroup } : {}) });
  return waitForLine(child, /^\{/, options.timeoutMs).then((line) => JSON.parse(line) as T);
}

/** Starts a server probe on `host` and resolves once it prints `listening`. */
export async function startServer(host: SimulatedHost, source: string, args: readonly string[], options: { cpuGroup?: CpuGroup } = {}): Promise<ChildProcess> {
  const child = host.exec(process.execPath, ['-e', source, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cpuGroup ? { cpuGroup: options.cpuGroup } : {}) });
  // Node boots in ~50 ms of CPU: inside a 12.5 % group that is ~0.5 s of wall time.
  await waitForLine(child, /^listening /, 15_000);
  return child;
}

/** Result line of HTTP_LOAD. */
export interface LoadResult {
  completed: number;
  errors: number;
  windowS: number;
  p50Us: number | null;
  p90Us: number | null;
  p99Us: number | null;
  maxUs: number | null;
  cpuS: number;
  perSecond: number[];
}

/** Result line of TCP_PING. */
export interface PingResult {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
}
