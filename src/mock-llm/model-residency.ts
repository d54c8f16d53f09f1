/**
 * Which models the mock holds in memory. A request for a model that is not resident pays its load
 * time first (concurrent requests share one load), evicting the least recently used model beyond
 * `maxLoadedModels`. Each load leaks `leakPerLoad` bytes, which /api/ps reports: a leak to catch.
 */
import type { MockModelConfig } from '../shared/mock-schema';

interface Resident {
  model: MockModelConfig;
  ready: Promise<void>;
  loadedAtMs: number;
  lastUsedMs: number;
}

export class ModelResidency {
  private readonly resident = new Map<string, Resident>();
  private readonly leakedBytes = new Map<string, number>();
  readonly loads = new Map<string, number>();

  /** @param onLoad called when a load of a model starts (what a process kept, such as its prompt cache, is gone). */
  constructor(
    private readonly maxLoaded: number,
    private readonly onLoad: (modelName: string) => void = () => undefined,
  ) {}

  /** Resolves when `model` is resident; returns the load time this request paid (0 when warm). */
  async acquire(model: MockModelConfig): Promise<number> {
    const now = Date.now();
    const existing = this.resident.get(model.name);
    if (existing) {
      existing.lastUsedMs = now;
      const before = performance.now();
      await existing.ready;
      return performance.now() - before;
    }
    this.evictFor(model.name);
    const entry: Resident = {
      model,
      ready: new Promise((resolve) => setTimeout(resolve, model.loadTimeMs).unref()),
      loadedAtMs: now,
      lastUsedMs: now,
    };
    this.resident.set(model.name, entry);
    this.loads.set(model.name, (this.loads.get(model.name) ?? 0) + 1);
    this.onLoad(model.name);
    this.leakedBytes.set(model.name, (this.leakedBytes.get(model.name) ?? 0) + model.leakPerLoadBytes);
    const before = performance.now();
    await entry.ready;
    return performance.now() - before;
  }

  private evictFor(incoming: string): void {
    while (this.resident.size >= this.maxLoaded) {
      const [oldest] =
        [...this.resident.entries()].filter(([name]) => name !== incoming).sort((a, b) => a[1].lastUsedMs - b[1].lastUsedMs)[0] ?? [];
      if (oldest === undefined) return;
      this.resident.delete(oldest);
    }
  }

  /** Resident models with their memory: footprint plus everything leaked by their loads so far. */
  list(): Array<{ name: string; sizeBytes: number; loadedAtMs: number }> {
    return [...this.resident.values()].map((entry) => ({
      name: entry.model.name,
      sizeBytes: entry.model.memoryBytes + (this.leakedBytes.get(entry.model.name) ?? 0),
      loadedAtMs: entry.loadedAtMs,
    }));
  }
}
