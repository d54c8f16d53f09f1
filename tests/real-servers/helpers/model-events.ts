/**
 * A router's model events as they happen (`GET /models/sse` on llama-server in router mode): one
 * `status: "loading"` when it starts a model's process, one `"loaded"` when the model is ready,
 * `"unloaded"` when it evicts one. Each load is a real one, so these are the server's own count of
 * model switches, and the time from "loading" to "loaded" is its own load time.
 */
export interface ModelEvent {
  /** `performance.now()` when the event arrived. */
  atMs: number;
  model: string;
  status: string;
}

export interface ModelEvents {
  events: ModelEvent[];
  /** Resolves when `done(events)` holds (events arrive as they happen), or rejects after `timeoutMs`. */
  until(done: (events: ModelEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface EventData {
  model?: string;
  data?: { status?: string };
}

export async function watchModelEvents(url: string): Promise<ModelEvents> {
  const controller = new AbortController();
  const response = await fetch(`${url}/models/sse`, { signal: controller.signal });
  if (response.status !== 200 || !response.body) throw new Error(`${url}/models/sse answered ${response.status}`);
  const events: ModelEvent[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let partial = '';
    for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
      const lines = (partial + decoder.decode(piece, { stream: true })).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data:')) continue;
        const event = JSON.parse(line.slice('data:'.length)) as EventData;
        if (event.model && event.data?.status) events.push({ atMs: performance.now(), model: event.model, status: event.data.status });
      }
    }
  })().catch(() => undefined);
  return {
    events,
    async until(done, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(events)) {
        if (Date.now() > deadline)
          throw new Error(`model events: condition not met within ${timeoutMs} ms; events: ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}

/** Each model load's time, from the router starting it ("loading", first of a run) to "loaded". */
export function loadTimesMs(events: readonly ModelEvent[]): Array<{ model: string; ms: number }> {
  const loads: Array<{ model: string; ms: number }> = [];
  const loadingSince = new Map<string, number>();
  for (const event of events) {
    if (event.status === 'loading' && !loadingSince.has(event.model)) loadingSince.set(event.model, event.atMs);
    if (event.status === 'loaded') {
      const since = loadingSince.get(event.model);
      if (since !== undefined) loads.push({ model: event.model, ms: event.atMs - since });
      loadingSince.delete(event.model);
    }
  }
  return loads;
}
