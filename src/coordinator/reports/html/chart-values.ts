/**
 * Numbers as charts receive them: rounded so that report.html stays small (a 900-window timeline
 * of full-precision floats would double its size for digits nobody can see), times in seconds.
 */

/** `value` rounded to `digits` decimals. */
export function rounded(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Milliseconds -> seconds, for x axes. */
export function secondsOf(ms: number): number {
  return rounded(ms / 1000);
}

/** Whether a series has at least one value to draw. */
export function hasValues(values: ReadonlyArray<number | null>): boolean {
  return values.some((value) => value !== null);
}
