/**
 * Reads an OpenAI-compatible SSE stream (chat or legacy completions) with a spec-complete parser
 * (multi-line data, comments, CRLF): the answer, any reasoning streamed apart from it, the arrival
 * time of every chunk with content, and the final `usage`.
 */
import { createParser } from 'eventsource-parser';
import { MalformedResponse } from './http-exchange';

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  /** OpenAI, vLLM and llama.cpp: how much of the prompt the server's cache held. */
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/** llama.cpp's own account of a request; `cache_n`: prompt tokens reused from its cache. */
export interface LlamaTimings {
  cache_n?: number;
}

interface StreamEvent {
  choices?: Array<{ delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null }; text?: string }>;
  usage?: Usage | null;
  timings?: LlamaTimings | null;
}

/** Prompt tokens the server served from its cache, when its answer says: `usage` first, llama.cpp's `timings` else. */
export function cachedPromptTokens(usage: Usage | null | undefined, timings: LlamaTimings | null | undefined): number | undefined {
  const fromUsage = usage?.prompt_tokens_details?.cached_tokens;
  if (typeof fromUsage === 'number' && Number.isFinite(fromUsage) && fromUsage >= 0) return fromUsage;
  const fromTimings = timings?.cache_n;
  return typeof fromTimings === 'number' && Number.isFinite(fromTimings) && fromTimings >= 0 ? fromTimings : undefined;
}

export interface StreamedAnswer {
  content: string;
  reasoning: string;
  usage: Usage | undefined;
  timings: LlamaTimings | undefined;
  /** `performance.now()` of each chunk that carried content (answer or reasoning). */
  chunkTimesMs: number[];
}

/** A frame's JSON as the API defines it: an object with `choices` or `usage`; anything else is malformed. */
function parseFrame(data: string): StreamEvent {
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch {
    throw new MalformedResponse(`bad SSE data: ${data.slice(0, 80)}`);
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new MalformedResponse(`SSE frame is not a JSON object: ${data.slice(0, 80)}`);
  const frame = event as StreamEvent;
  if (!Array.isArray(frame.choices) && (typeof frame.usage !== 'object' || frame.usage === null))
    throw new MalformedResponse(`SSE frame carries neither choices nor usage: ${data.slice(0, 200)}`);
  return frame;
}

/**
 * The answer of one streamed response, fed piece by piece as the pieces arrive (`feed`), read
 * when the body ends (`finish`). A stream must end with `[DONE]` and carry at least one frame
 * with a choice (an empty answer with a `finish_reason` is an answer; a stream of usage frames
 * alone is not).
 */
export class OpenAiStream {
  private readonly answer: StreamedAnswer = { content: '', reasoning: '', usage: undefined, timings: undefined, chunkTimesMs: [] };
  private done = false;
  private choices = 0;
  /**
   * When the piece carrying a frame arrived: stamped before parsing, so that parsing the frames
   * ahead of it in the same piece is not counted as the server's time.
   */
  private arrivedMs = 0;
  private readonly parser = createParser({ onEvent: (event) => this.onData(event.data) });
  private readonly decoder = new TextDecoder();

  constructor(private readonly legacy: boolean) {}

  /** Whether the decoder holds the first bytes of a character that the next piece completes. */
  private decoderHolds = false;

  /** A piece of the body, and `performance.now()` when it arrived. */
  feed(piece: Buffer, arrivedMs: number): void {
    this.arrivedMs = arrivedMs;
    // A piece that ends in ASCII (a frame ends with a newline) with nothing held before it decodes
    // whole: Buffer's own decoding costs a third of a streaming TextDecoder's per piece.
    const whole = !this.decoderHolds && piece.length > 0 && (piece[piece.length - 1] as number) < 0x80;
    if (whole) {
      this.parser.feed(piece.toString('utf8'));
      return;
    }
    this.parser.feed(this.decoder.decode(piece, { stream: true }));
    this.decoderHolds = piece.length > 0 && (piece[piece.length - 1] as number) >= 0x80;
  }

  /** The answer, once the body ended; throws `MalformedResponse` for a stream cut short or without choices. */
  finish(): StreamedAnswer {
    this.parser.feed(this.decoder.decode());
    if (!this.done) throw new MalformedResponse('stream ended without [DONE]');
    if (this.choices === 0) throw new MalformedResponse('stream ended without a frame carrying a choice');
    return this.answer;
  }

  private onData(data: string): void {
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    const { answer } = this;
    const event = parseFrame(data);
    if (event.usage) answer.usage = event.usage;
    if (typeof event.timings === 'object' && event.timings !== null) answer.timings = event.timings;
    const choice = event.choices?.[0];
    // `choices: []` (a usage frame) or `[null]` carries no choice.
    if (typeof choice !== 'object' || choice === null) return;
    this.choices++;
    const content = this.legacy ? choice.text : choice.delta?.content;
    // Reasoning models stream their thinking first: it is output (TTFT, inter-token gaps) but
    // kept apart from the answer, which alone is scored by context probes.
    const thought = choice.delta?.reasoning_content ?? choice.delta?.reasoning;
    if ((typeof thought === 'string' && thought.length > 0) || (typeof content === 'string' && content.length > 0))
      answer.chunkTimesMs.push(this.arrivedMs);
    if (typeof thought === 'string') answer.reasoning += thought;
    if (typeof content === 'string') answer.content += content;
  }
}
