/**
 * Keeps a bounded, uniform sample of one thread's measured requests (reservoir sampling, seeded),
 * for `run --requests FILE`: a long soak cannot fill the disk, and every kept request says how
 * many it stands for (`weight`), so a sample is never mistaken for all of them.
 */
import { createRandom } from '../shared/seeded-random';
import type { RequestLogEntry } from '../shared/shard-result';

export class RequestSampler {
  private readonly kept: RequestLogEntry[] = [];
  private seen = 0;
  private readonly random: () => number;

  constructor(
    private readonly capacity: number,
    seed: number,
  ) {
    this.random = createRandom(seed);
  }

  /** Offers a request; it is kept with the probability that keeps the sample uniform. */
  offer(entry: () => RequestLogEntry): void {
    if (this.capacity === 0) return;
    this.seen++;
    if (this.kept.length < this.capacity) {
      this.kept.push(entry());
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.capacity) this.kept[slot] = entry();
  }

  /** The sample, each request weighted by how many it stands for. */
  finish(): RequestLogEntry[] {
    const weight = this.kept.length > 0 ? this.seen / this.kept.length : 1;
    return this.kept.map((entry) => ({ ...entry, weight }));
  }
}
