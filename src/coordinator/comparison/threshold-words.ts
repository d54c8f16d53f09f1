/** How a row of a comparison says its threshold, and why that one, in the Markdown and the HTML. */
import type { MetricComparison } from './metric-comparison';

/** "+10%", "+14% (history)", "+15% (plan)". */
export function thresholdCell(metric: MetricComparison): string {
  return metric.thresholdSource === 'default' ? metric.threshold.text : `${metric.threshold.text} (${metric.thresholdSource})`;
}

/** The verdict's reason, after the threshold's story when the history was consulted ("default +10%, widened to +14% by ..."). */
export function whyCell(metric: MetricComparison): string {
  const plain = metric.thresholdNote === `default ${metric.threshold.text}` || metric.thresholdSource === 'plan';
  return plain ? metric.reason : `threshold: ${metric.thresholdNote}; ${metric.reason}`;
}
