/**
 * Your own integration code as the target: a module loaded into each worker thread, exporting
 * `createSession`. A session is one conversation: the harness hands it only each new user message
 * and the model to use, so the integration's own context manager keeps (or loses) the history,
 * and context probes test exactly that. The module's memory is the threads' heaps.
 *
 *   // my-integration.js
 *   exports.createSession = async ({ model, systemPrompt }) => ({
 *     async send({ model, text }) { return { content: '...', outputTokens: 12 }; },  // or a string
 *     async close() {},
 *   });
 */
import { pathToFileURL } from 'node:url';
import type { ResolvedTarget } from '../../shared/shard-task';
import { estimateTokens, successOutcome, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';

export interface GrymSession {
  send(message: { model: string; text: string }): Promise<string | { content: string; inputTokens?: number; outputTokens?: number }>;
  close?(): Promise<void> | void;
}

export interface GrymModule {
  createSession(options: { model: string; systemPrompt: string }): Promise<GrymSession> | GrymSession;
}

const loaded = new Map<string, Promise<GrymModule>>();

/** Loads (once per thread) a CommonJS or ES module from its absolute path. */
function loadModule(path: string): Promise<GrymModule> {
  let module = loaded.get(path);
  if (!module) {
    module = (import(pathToFileURL(path).href) as Promise<GrymModule & { default?: GrymModule }>).then((imported) => {
      const api = typeof imported.createSession === 'function' ? imported : imported.default;
      if (!api || typeof api.createSession !== 'function') throw new Error(`${path} does not export createSession({ model, systemPrompt })`);
      return api;
    });
    loaded.set(path, module);
  }
  return module;
}

export function createModuleTarget(target: ResolvedTarget): LlmTarget {
  const sessions = new Map<string, Promise<GrymSession>>();

  async function send(request: ChatRequest): Promise<RequestOutcome> {
    const startMs = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const api = await loadModule(target.modulePath as string);
      const id = request.conversationId ?? 'default';
      let session = sessions.get(id);
      if (!session) {
        const systemPrompt = request.messages.find((message) => message.role === 'system')?.content ?? '';
        session = Promise.resolve(api.createSession({ model: request.model, systemPrompt }));
        sessions.set(id, session);
      }
      const text = request.messages.at(-1)?.content ?? '';
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('module did not answer in time'), { code: 'GRYM_TIMEOUT' })), target.requestTimeoutMs);
      });
      const reply = await Promise.race([(await session).send({ model: request.model, text }), timeout]);
      const content = typeof reply === 'string' ? reply : reply?.content;
      if (typeof content !== 'string') return { ok: false, startMs, endMs: performance.now(), errorClass: 'malformed_response', message: 'send() must return a string or { content }' };
      const counts: { inputTokens?: number; outputTokens?: number } = typeof reply === 'object' ? reply : {};
      return successOutcome({
        request,
        startMs,
        firstContentMs: null,
        contentChunkTimesMs: [],
        content,
        serverOutputTokens: counts.outputTokens,
        serverInputTokens: counts.inputTokens ?? estimateTokens(text),
      });
    } catch (error) {
      const timedOut = (error as { code?: string }).code === 'GRYM_TIMEOUT';
      return { ok: false, startMs, endMs: performance.now(), errorClass: timedOut ? 'timeout' : 'other', message: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  async function endConversation(id: string): Promise<void> {
    const session = sessions.get(id);
    sessions.delete(id);
    await (await session?.catch(() => undefined))?.close?.();
  }

  return {
    send,
    endConversation,
    async close() {
      await Promise.all([...sessions.keys()].map(endConversation));
    },
  };
}
