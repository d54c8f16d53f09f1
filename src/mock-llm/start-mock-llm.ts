/**
 * The built-in mock LLM: a deterministic system under test speaking the OpenAI API (chat and
 * completions, streaming and not) and the Ollama API (/api/chat, /api/ps, /api/tags). This file
 * only wires the model engine (`MockEngine`: timing, residency, prompt cache, faults), one route
 * file per protocol, and the connection policy into an HTTP server.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { MockServerConfig } from '../shared/mock-schema';
import type { Summary } from '../shared/phase-metrics';
import { PortInUseError } from '../shared/errors';
import { ConnectionPolicy } from './connection-policy';
import { HttpError } from './http-error';
import { sendJson } from './http-json';
import { MockEngine } from './mock-engine';
import type { MockStats } from './mock-stats';
import { infoRoutes } from './routes/info-routes';
import type { MockRoute } from './routes/mock-route';
import { ollamaChatRoute } from './routes/ollama-chat-route';
import { openAiChatRoute } from './routes/openai-chat-route';
import { openAiCompletionsRoute } from './routes/openai-completions-route';

// Abort reasons given as values: an abort without one builds a DOMException, a cost on every request.
const CLIENT_GONE = 'the client went away';
const CLOSING = 'the mock is closing';

export interface MockLlmServer {
  /** Origin, such as http://127.0.0.1:41234; the OpenAI base URL is `${url}/v1`. */
  url: string;
  port: number;
  stats(): MockStats;
  /** How late first tokens left against the mock's own schedule (ms) since the last call; starts a new period. */
  takeLateness(): Summary | null;
  /** Stops listening and drops open connections; idempotent. */
  close(): Promise<void>;
}

/** Starts the mock on `host` (default 127.0.0.1) and `port` (default 0: a free one); a taken port gives `PortInUseError`. */
export async function startMockLlm(config: MockServerConfig, options: { port?: number; host?: string } = {}): Promise<MockLlmServer> {
  const engine = new MockEngine(config);
  const policy = new ConnectionPolicy(config, engine.stats);
  /** Generations in progress: each stops when its client goes away, all when the mock closes. */
  const generations = new Set<AbortController>();
  let closing = false;
  const routes: Record<string, MockRoute> = {
    'POST /v1/chat/completions': openAiChatRoute(engine),
    'POST /v1/completions': openAiCompletionsRoute(engine),
    'POST /api/chat': ollamaChatRoute(engine),
    ...infoRoutes(engine, config),
  };
  /** Aborted when the client goes away before its answer ended (or the mock closes): generation then stops, as real servers stop. */
  const requestSignal = (response: ServerResponse): AbortSignal => {
    const generation = new AbortController();
    if (closing) generation.abort(CLOSING);
    generations.add(generation);
    response.once('close', () => {
      generations.delete(generation);
      if (!response.writableFinished) generation.abort(CLIENT_GONE);
    });
    return generation.signal;
  };

  const server = createServer((request, response) => {
    engine.stats.requests++;
    policy.admit(request, response);
    const route = routes[`${request.method} ${(request.url ?? '/').split('?')[0]}`];
    const handle = route
      ? Promise.resolve().then(() => route(request, response, requestSignal(response)))
      : Promise.reject(new HttpError(404, `no route ${request.method} ${request.url}`));
    handle.catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      policy.beforeError(response);
      const failure = error instanceof HttpError ? error : new HttpError(500, (error as Error).message, 'server_error');
      sendJson(response, failure.status, failure.toBody());
    });
  });
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    engine.stats.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    const [bindHost, bindPort] = [options.host ?? '127.0.0.1', options.port ?? 0];
    server.once('error', (error: NodeJS.ErrnoException) => {
      // A port in use is the user's to fix: one line (exit 3), not a stack.
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(bindHost, bindPort) : error);
    });
    server.listen(bindPort, bindHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats: () => engine.snapshot(),
    takeLateness: () => engine.takeLateness(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        for (const generation of generations) generation.abort(CLOSING);
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
