/**
 * Your own integration code as the target (see `GrymModule`): loaded into each worker thread once,
 * one session per conversation. The module's memory is the threads' heaps.
 */
import { countWords } from '../../shared/chat';
import { loadGrymModule, type GrymModule, type GrymSession } from '../../shared/grym-module';
import type { ModuleTarget } from '../../shared/resolved-target';
import { InFlightRequests } from './in-flight-requests';
import { successOutcome, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';

const loaded = new Map<string, Promise<GrymModule>>();

/** Raised by the harness's own timer, never by the module: tells a timeout from a module's error. */
class NoAnswerInTime extends Error {}

/** Raised when the harness stops the phase: the module's answer is no longer waited for. */
class StoppedByHarness extends Error {}

/** What a module's `send()` returned, as an outcome: a string or `{ content, inputTokens?, outputTokens? }`. */
function replyOutcome(
  request: ChatRequest,
  startMs: number,
  text: string,
  reply: Awaited<ReturnType<GrymSession['send']>>,
): RequestOutcome {
  const content = typeof reply === 'string' ? reply : reply?.content;
  if (typeof content !== 'string') {
    const message = 'send() must return a string or { content }';
    return { ok: false, startMs, endMs: performance.now(), errorClass: 'malformed_response', message };
  }
  const counts: { inputTokens?: number; outputTokens?: number } = typeof reply === 'object' ? reply : {};
  return successOutcome({
    request,
    startMs,
    firstContentMs: null,
    contentChunkTimesMs: [],
    content,
    serverOutputTokens: counts.outputTokens,
    serverInputTokens: counts.inputTokens ?? countWords(text),
  });
}

/** `stopSignal`: aborted when the harness stops the phase; turns in flight are then abandoned. */
export async function createModuleTarget(target: ModuleTarget, stopSignal?: AbortSignal): Promise<LlmTarget> {
  let api = loaded.get(target.modulePath);
  if (!api) {
    api = loadGrymModule(target.modulePath);
    loaded.set(target.modulePath, api);
  }
  const module = await api;
  const inFlight = new InFlightRequests(stopSignal);
  const sessions = new Map<string, Promise<GrymSession>>();

  async function send(request: ChatRequest): Promise<RequestOutcome> {
    const startMs = performance.now();
    if (inFlight.stopped) return { ok: false, startMs, endMs: startMs, errorClass: 'aborted', message: 'the phase was stopped' };
    let timer: NodeJS.Timeout | undefined;
    let slot: number | undefined;
    try {
      const id = request.conversationId ?? 'default';
      let session = sessions.get(id);
      if (!session) {
        const systemPrompt = request.messages.find((message) => message.role === 'system')?.content ?? '';
        session = Promise.resolve(module.createSession({ model: request.model, systemPrompt }));
        sessions.set(id, session);
      }
      const text = request.messages.at(-1)?.content ?? '';
      // Per turn, released after it: a promise shared by all turns would collect a reaction per race.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NoAnswerInTime('module did not answer in time')), target.requestTimeoutMs);
        slot = inFlight.track(() => reject(new StoppedByHarness('the phase was stopped while this turn was in flight')));
      });
      return replyOutcome(request, startMs, text, await Promise.race([(await session).send({ model: request.model, text }), timeout]));
    } catch (error) {
      const errorClass = error instanceof NoAnswerInTime ? 'timeout' : error instanceof StoppedByHarness ? 'aborted' : 'other';
      return { ok: false, startMs, endMs: performance.now(), errorClass, message: (error as Error).message };
    } finally {
      clearTimeout(timer);
      if (slot !== undefined) inFlight.release(slot);
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
