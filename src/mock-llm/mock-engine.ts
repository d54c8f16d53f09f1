/**
 * The mock's model engine, shared by every protocol route. Timing follows the model config: a
 * non-resident model pays `loadTime`; the prompt phase lasts `ttft` (plus a stall, plus the
 * prompt tokens the prompt cache does not hold at `promptTokensPerSecond`); token i is generated
 * at prompt end + i / tokensPerSecond and goes out with its chunk (`tokensPerChunk`) when the
 * chunk's last token is due. Chunks are scheduled from the start, so delays do not drift. Errors,
 * stalls and `data: null` frames are drawn from a hash of the seed and the request, reproducibly.
 */
import { createHistogram, summarize } from '../shared/histogram';
import type { Summary } from '../shared/phase-metrics';
import type { MockModelConfig, MockServerConfig } from '../shared/mock-schema';
import { hash32 } from '../shared/seeded-random';
import { abortableSleep } from './abortable-sleep';
import type { ChatRequest } from './chat-request';
import { composeAnswer, type Answer } from './compose-answer';
import { contextOverflowError } from './context-overflow-error';
import { promptTokens, promptTokenSequence, retainedMessages } from './context-window';
import { HttpError } from './http-error';
import { llamaTimings } from './llama-timings';
import { createMockStats, type MockStats } from './mock-stats';
import { ModelResidency } from './model-residency';
import { PromptCache } from './prompt-cache';

/** Where a generation's chunks go: each route writes them in its protocol. */
export interface TokenSink {
  /** One chunk of `tokensPerChunk` tokens (fewer at the end), all reasoning or all answer. */
  chunk(text: string, reasoning: boolean): void;
  /** A `data: null` frame the fault injection asks for; routes that cannot send one leave it out. */
  nullFrame?(): void;
}

interface Chunk {
  text: string;
  reasoning: boolean;
  /** Index (over reasoning and answer tokens) of the chunk's last token: the chunk is due with it. */
  lastToken: number;
}

/** A checked request with everything drawn for it: its answer, chunks and faults. */
export interface Generation {
  readonly chat: ChatRequest;
  readonly model: MockModelConfig;
  readonly answer: Answer;
  /** Prompt tokens usage reports: every message. */
  readonly promptTokens: number;
  /** The tokens the model reads (the messages its window keeps), compared with the prompt cache. */
  readonly seenTokens: readonly string[];
  readonly chunks: readonly Chunk[];
  readonly stalled: boolean;
  /** The chunk a `data: null` frame goes before, when this answer gets one. */
  readonly nullFrameBeforeChunk: number | undefined;
}

/** What a generation took. */
export interface GenerationOutcome {
  /** Load time this request paid (0 when the model was resident). */
  loadMs: number;
  /** The prompt phase as scheduled: ttft, a stall, and the uncached prompt tokens at promptTokensPerSecond. */
  promptMs: number;
  /** From the end of the prompt phase to the last chunk sent. */
  predictedMs: number;
  /** Load, prompt phase and generation. */
  totalMs: number;
  /** Prompt tokens served from the prompt cache. */
  cachedTokens: number;
  /** Prompt tokens the model read (the window's messages). */
  seenTokens: number;
}

// Salts of the seeded draws, one per kind of fault, so that they are independent.
const ERROR_SALT = 0xe770;
const STALL_SALT = 0x5a11;
const NULL_FRAME_SALT = 0x9e11;
const NULL_FRAME_PLACE_SALT = 0x9e12;

export class MockEngine {
  private readonly counters: MockStats = createMockStats();
  /** How late each first token left against the mock's own schedule, in microseconds (`takeLateness`). */
  private readonly lateness = createHistogram();
  private readonly models: Map<string, MockModelConfig>;
  private readonly caches: Map<string, PromptCache>;
  /** Which models are loaded: /api/ps and /metrics read it. */
  readonly residency: ModelResidency;

  constructor(private readonly config: MockServerConfig) {
    this.models = new Map(config.models.map((model) => [model.name, model]));
    this.caches = new Map(config.models.map((model) => [model.name, new PromptCache(model.promptCacheEntries)]));
    // A (re)loaded model starts with an empty prompt cache, as a new llama.cpp process does.
    this.residency = new ModelResidency(config.maxLoadedModels, (name) => this.caches.get(name)?.clear());
  }

  /** The counters, for the server's wiring to add to (requests, connections). */
  get stats(): MockStats {
    return this.counters;
  }

  /** A copy of the counters with the loads so far. */
  snapshot(): MockStats {
    return { ...this.counters, loads: Object.fromEntries(this.residency.loads) };
  }

  /**
   * How late first tokens left since the last call, in ms, by the mock's own clock (null when none
   * did); starts a new period. A machine that stalls the mock's process makes it late: then the
   * latencies measured against it are the machine's, not the mock's settings.
   */
  takeLateness(): Summary | null {
    const summary = summarize(this.lateness);
    this.lateness.reset();
    return summary;
  }

  model(name: string): MockModelConfig | undefined {
    return this.models.get(name);
  }

  /**
   * Checks `chat` against `model` and draws its answer and faults. Throws the HTTP error a real
   * server would answer: a 400 for a prompt that does not fit when the model rejects those, a 500
   * when `errorRate` picks this request.
   */
  prepare(chat: ChatRequest, model: MockModelConfig): Generation {
    const prompt = promptTokens(chat.messages);
    let maxTokens = chat.maxTokens;
    let seen = chat.messages;
    if (model.onContextOverflow === 'reject') {
      // llama.cpp rejects a prompt that leaves no room for one token, and stops generating at the window's end.
      if (prompt >= model.contextWindowTokens) {
        this.counters.contextOverflowsRejected++;
        throw contextOverflowError(model.contextOverflowError, prompt, model.contextWindowTokens);
      }
      maxTokens = Math.min(maxTokens, model.contextWindowTokens - prompt);
    } else {
      seen = retainedMessages(chat.messages, model.contextWindowTokens);
    }
    const key = `${model.name}\u0000${JSON.stringify(chat.messages)}`;
    if (this.draw(ERROR_SALT, key) < model.errorRate) {
      this.counters.errorsInjected++;
      throw new HttpError(500, 'injected failure (mock errorRate)', 'server_error');
    }
    const answer = composeAnswer({
      seed: this.config.seed,
      model: model.name,
      messages: chat.messages,
      windowTokens: model.contextWindowTokens,
      maxTokens,
    });
    const chunks = chunksOf(model, answer);
    const nullFrame = chat.stream && chunks.length > 0 && this.draw(NULL_FRAME_SALT, key) < model.nullFrameRate;
    return {
      chat,
      model,
      answer,
      promptTokens: prompt,
      seenTokens: promptTokenSequence(seen),
      chunks,
      stalled: this.draw(STALL_SALT, key) < model.stallRate,
      nullFrameBeforeChunk: nullFrame ? hash32(this.config.seed ^ NULL_FRAME_PLACE_SALT, key) % chunks.length : undefined,
    };
  }

  /**
   * Loads the model if needed, then plays the chunks on schedule into `sink`. Stops early when
   * `signal` aborts (the client went away or the mock closes).
   */
  async generate(generation: Generation, signal: AbortSignal, sink: TokenSink): Promise<GenerationOutcome> {
    const { model } = generation;
    this.counters.firstChatAtMs ??= Date.now();
    this.counters.generations++;
    if (generation.stalled) this.counters.stallsInjected++;
    const loadMs = await this.residency.acquire(model);
    const cache = this.caches.get(model.name) as PromptCache;
    const cachedTokens = cache.reuse(generation.seenTokens);
    const uncached = generation.seenTokens.length - cachedTokens;
    this.counters.promptTokensCached += cachedTokens;
    this.counters.promptTokensProcessed += uncached;
    const readMs = model.promptTokensPerSecond === undefined ? 0 : (uncached * 1000) / model.promptTokensPerSecond;
    const promptMs = model.ttftMs + (generation.stalled ? model.stallTimeMs : 0) + readMs;
    const startMs = performance.now();
    let sent = 0;
    let lastSentMs = startMs + promptMs;
    for (const [index, chunk] of generation.chunks.entries()) {
      const dueMs = startMs + promptMs + (chunk.lastToken * 1000) / model.tokensPerSecond;
      if (!(await abortableSleep(dueMs - performance.now(), signal))) break;
      if (index === generation.nullFrameBeforeChunk && sink.nullFrame) {
        sink.nullFrame();
        this.counters.nullFramesInjected++;
      }
      sink.chunk(chunk.text, chunk.reasoning);
      if (index === 0) this.lateness.recordValue(Math.max(0, Math.round((performance.now() - dueMs) * 1000)));
      sent++;
      lastSentMs = performance.now();
    }
    // The next turn of a conversation resends this answer as an assistant message: keep it with the prompt.
    const answerTokens = generation.answer.tokens.map((token) => `assistant:${token.trim()}`);
    if (sent > 0) cache.remember(sent === generation.chunks.length ? [...generation.seenTokens, ...answerTokens] : generation.seenTokens);
    return {
      loadMs,
      promptMs,
      predictedMs: Math.max(0, lastSentMs - startMs - promptMs),
      totalMs: performance.now() - startMs + loadMs,
      cachedTokens,
      seenTokens: generation.seenTokens.length,
    };
  }

  /** OpenAI `usage`; with a prompt cache also `prompt_tokens_details.cached_tokens`, as llama.cpp and OpenAI send it. */
  usage(generation: Generation, outcome: GenerationOutcome) {
    const completion = generation.answer.tokens.length + generation.model.reasoningTokens;
    return {
      prompt_tokens: generation.promptTokens,
      completion_tokens: completion,
      total_tokens: generation.promptTokens + completion,
      ...(generation.model.promptCacheEntries > 0 ? { prompt_tokens_details: { cached_tokens: outcome.cachedTokens } } : {}),
    };
  }

  /** `{ timings }` in llama.cpp's shape when the config asks for it, else nothing: spread it into an answer. */
  timingsField(generation: Generation, outcome: GenerationOutcome): { timings?: ReturnType<typeof llamaTimings> } {
    if (!this.config.timings) return {};
    return {
      timings: llamaTimings({
        cachedTokens: outcome.cachedTokens,
        promptTokens: outcome.seenTokens - outcome.cachedTokens,
        promptMs: outcome.promptMs,
        predictedTokens: generation.answer.tokens.length + generation.model.reasoningTokens,
        predictedMs: outcome.predictedMs,
      }),
    };
  }

  /** A uniform draw in [0, 1) fixed by the seed, the fault's salt and the request. */
  private draw(salt: number, key: string): number {
    return hash32(this.config.seed ^ salt, key) / 2 ** 32;
  }
}

/** The reasoning tokens then the answer's, grouped `tokensPerChunk` at a time without mixing the two. */
function chunksOf(model: MockModelConfig, answer: Answer): Chunk[] {
  const tokens = [
    ...Array.from({ length: model.reasoningTokens }, (_, index) => ({ text: `thought${index} `, reasoning: true })),
    ...answer.tokens.map((text) => ({ text, reasoning: false })),
  ];
  const chunks: Chunk[] = [];
  let open: Chunk | undefined;
  let size = 0;
  for (const [index, token] of tokens.entries()) {
    if (open && (open.reasoning !== token.reasoning || size === model.tokensPerChunk)) open = undefined;
    if (!open) {
      open = { text: '', reasoning: token.reasoning, lastToken: index };
      size = 0;
      chunks.push(open);
    }
    open.text += token.text;
    open.lastToken = index;
    size++;
  }
  return chunks;
}
