/**
 * The requests a target has in flight, so that a stopped phase abandons them all at once. One
 * listener on the slice's stop signal per target, and a Set entry per request: adding and removing
 * an AbortSignal listener per request costs about a microsecond with many in flight, a Set entry a
 * tenth of that.
 */
export class InFlightRequests {
  private readonly abandons = new Set<() => void>();
  private stoppedFlag: boolean;

  constructor(stopSignal?: AbortSignal) {
    this.stoppedFlag = stopSignal?.aborted === true;
    stopSignal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Whether the phase was stopped: send nothing more. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** `abandon` is called if the phase stops while the request is in flight; `release` it when the request ends. */
  track(abandon: () => void): void {
    this.abandons.add(abandon);
  }

  release(abandon: () => void): void {
    this.abandons.delete(abandon);
  }

  private stop(): void {
    this.stoppedFlag = true;
    for (const abandon of [...this.abandons]) abandon();
    this.abandons.clear();
  }
}
