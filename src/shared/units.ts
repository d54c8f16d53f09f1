/**
 * Units written in plans: durations ("250ms", "1.5s", "2m"), byte sizes ("100MB", "14GB",
 * "512MiB") and ratios ("95%"). Parsed once at the edge into plain numbers: milliseconds,
 * bytes, fractions of one.
 */

export type UnitKind = 'duration' | 'bytes' | 'ratio' | 'count' | 'rate';

/** What a target memory source reads: bytes, or a Prometheus gauge that is a ratio (cache usage) or a count (tokens). */
export const TARGET_MEMORY_UNITS = ['bytes', 'ratio', 'count'] as const;
export type TargetMemoryUnit = (typeof TARGET_MEMORY_UNITS)[number];

const DURATION_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// Decimal units for GB/MB (what memory dashboards and the design record write), binary for GiB/MiB.
const BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  pb: 1e15,
  pib: 1024 ** 5,
};

// Matched against trimmed text: with `\s*` at both ends the engine tries every split of a long run
// of spaces (quadratic on hostile input); on trimmed text every part has one way to match.
const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?)\s*([a-zA-Z%]*)$/;

/**
 * "250 ms" -> { value: 250, unit: "ms" }. The value may be Infinity (a 400-digit number): callers
 * check it against their bounds, so that the message can say the bound.
 */
function split(text: string): { value: number; unit: string } | undefined {
  const match = NUMBER_WITH_UNIT.exec(text.trim());
  if (!match) return undefined;
  return { value: Number(match[1]), unit: (match[2] ?? '').toLowerCase() };
}

/** "250ms" | "1.5s" | "2m" -> milliseconds; undefined when the text is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const parts = split(text);
  if (!parts) return undefined;
  const factor = Object.hasOwn(DURATION_MS, parts.unit) ? DURATION_MS[parts.unit] : undefined;
  return factor === undefined ? undefined : parts.value * factor;
}

/** "100MB" | "14GB" | "512MiB" -> bytes; undefined when the text is not a byte size. */
export function parseBytes(text: string): number | undefined {
  const parts = split(text);
  if (!parts) return undefined;
  const factor = Object.hasOwn(BYTES, parts.unit) ? BYTES[parts.unit] : undefined;
  return factor === undefined ? undefined : parts.value * factor;
}

/** "95%" -> 0.95; undefined when the text is not a percentage. */
export function parseRatio(text: string): number | undefined {
  const parts = split(text);
  if (!parts || parts.unit !== '%') return undefined;
  return parts.value / 100;
}

/** A plain number ("10", "2.5") or a rate ("12/s"); undefined otherwise. */
function parsePlainNumber(text: string): number | undefined {
  const parts = /^(-?\d+(?:\.\d+)?)\s*(\/s)?$/.exec(text.trim());
  return parts ? Number(parts[1]) : undefined;
}

/** Parses a value of the given kind; undefined when the text does not carry that kind's unit. */
export function parseValue(kind: UnitKind, text: string): number | undefined {
  switch (kind) {
    case 'duration':
      return parseDurationMs(text);
    case 'bytes':
      return parseBytes(text);
    case 'ratio':
      return parseRatio(text);
    case 'count':
    case 'rate':
      return parsePlainNumber(text);
  }
}

/** An example of a value of this kind, for error messages. */
export const UNIT_EXAMPLE: Record<UnitKind, string> = {
  duration: '"1s", "250ms"',
  bytes: '"100MB", "14GB"',
  ratio: '"95%"',
  count: '"10"',
  rate: '"12" (per second)',
};

/** Formats a value of the given kind for reports: 1234.5 ms -> "1.23 s". */
export function formatValue(kind: UnitKind, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a';
  switch (kind) {
    case 'duration':
      if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(2)} s`;
      if (Math.abs(value) >= 1) return `${value.toFixed(1)} ms`;
      return `${(value * 1000).toFixed(0)} µs`;
    case 'bytes': {
      const abs = Math.abs(value);
      if (abs >= 1e9) return `${(value / 1e9).toFixed(2)} GB`;
      if (abs >= 1e6) return `${(value / 1e6).toFixed(1)} MB`;
      if (abs >= 1e3) return `${(value / 1e3).toFixed(1)} kB`;
      return `${value.toFixed(0)} B`;
    }
    case 'ratio':
      return `${(value * 100).toFixed(2)} %`;
    case 'count':
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
    case 'rate':
      return `${value.toFixed(2)} /s`;
  }
}
