/**
 * What llama-server itself says about the requests it served, read from its log (the server's
 * truth the real-server tests hold grym-perf's numbers against). Each finished request logs
 *   `slot print_timing: id  3 | task 0 | prompt eval time =   5.87 ms /    30 tokens (...)`
 *   `slot print_timing: id  3 | task 0 |        eval time =   6.43 ms /     5 tokens (...)`
 * (the same `prompt_ms`, `prompt_n`, `predicted_ms`, `predicted_n` as its `timings`, to 0.01 ms);
 * a refused request logs `send_error: task id = N, error: ...`; a router logs
 * `spawning server instance with name=X` for every model it loads.
 */
import type { TestLlamaServer } from '../../helpers/llama-server';

/** One request as the server timed it: from the moment a slot took its prompt (HTTP, templating and queueing excluded). */
export interface ServerTiming {
  task: number;
  /** Prompt processing up to the first token (`timings.prompt_ms`). */
  promptMs: number;
  /** Prompt tokens evaluated, cached ones excluded (`timings.prompt_n`). */
  promptTokens: number;
  /** First token to the last (`timings.predicted_ms`). */
  predictedMs: number;
  /** Tokens generated (`timings.predicted_n`, = `usage.completion_tokens`). */
  predictedTokens: number;
}

const PROMPT_LINE = /task (\d+) \| prompt eval time =\s*([\d.]+) ms \/\s*(\d+) tokens/;
const EVAL_LINE = /task (\d+) \|\s+eval time =\s*([\d.]+) ms \/\s*(\d+) tokens/;

/** The requests the server finished, in the order it finished them. */
export function serverTimings(lines: readonly string[]): ServerTiming[] {
  const prompts = new Map<number, { promptMs: number; promptTokens: number }>();
  const timings: ServerTiming[] = [];
  for (const line of lines) {
    const prompt = PROMPT_LINE.exec(line);
    if (prompt) {
      prompts.set(Number(prompt[1]), { promptMs: Number(prompt[2]), promptTokens: Number(prompt[3]) });
      continue;
    }
    const generated = EVAL_LINE.exec(line);
    const task = Number(generated?.[1]);
    const begun = prompts.get(task);
    if (!generated || !begun) continue;
    prompts.delete(task);
    timings.push({ task, ...begun, predictedMs: Number(generated[2]), predictedTokens: Number(generated[3]) });
  }
  return timings;
}

/** The messages of the errors the server sent (`send_error`), such as a prompt over the context size. */
export function serverErrors(lines: readonly string[]): string[] {
  return lines.flatMap((line) => /send_error: task id = \d+, error: (.*)$/.exec(line)?.[1] ?? []);
}

/** The models a router started, one entry per load, in order. */
export function modelLoads(lines: readonly string[]): string[] {
  return lines.flatMap((line) => /spawning server instance with name=(\S+)/.exec(line)?.[1] ?? []);
}

/**
 * Waits until the log lines written after `mark` satisfy `done` (the server logs a request's
 * timings as it sends the last bytes, so the client can be a moment ahead), then returns them.
 */
export async function logLinesWhen(
  server: TestLlamaServer,
  mark: number,
  done: (lines: string[]) => boolean,
  timeoutMs = 5_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = server.linesSince(mark);
    if (done(lines)) return lines;
    if (Date.now() > deadline) {
      throw new Error(
        `llama-server's log did not show what was awaited within ${timeoutMs} ms; its last lines:\n${lines.slice(-20).join('\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
