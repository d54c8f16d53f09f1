/** How the trend's numbers read, the same in the console, the HTML and the charts' marks. */
import type { RegressionScale } from '../../shared/regression-schema';
import { formatValue } from '../../shared/units';

/** A value in its metric's unit: "502.0 ms", "190.00 /s", "0.00 %". */
export function formatTrendValue(scale: RegressionScale, value: number | null): string {
  return formatValue(scale === 'duration' ? 'duration' : scale === 'rate' ? 'rate' : 'ratio', value);
}

/** A fraction as a percentage: "6.2 %"; "n/a" when missing. */
export function formatPercent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? 'n/a' : `${(fraction * 100).toFixed(1)} %`;
}

/** A relative change with its sign: "+19.7 %", "-3.0 %"; "n/a" when missing. */
export function formatSignedPercent(fraction: number | null): string {
  return fraction === null ? 'n/a' : `${fraction >= 0 ? '+' : '-'}${Math.abs(fraction * 100).toFixed(1)} %`;
}
