/**
 * The tables under a phase's charts: error classes with the first message of each (what the
 * target answered, escaped), the generator's health and its cause, and the shards (which worker
 * ran what, retries).
 */
import type { PhaseMetrics } from '../../../shared/phase-metrics';
import type { PhaseReport } from '../../../shared/run-report';
import { formatValue } from '../../../shared/units';
import { escapeHtml } from './html-escape';
import { verdictMark, warningMark } from './verdict-mark';

const ms = (value: number | null | undefined) => escapeHtml(formatValue('duration', value));

/** Error classes, most frequent first, each with its sample message. */
export function errorClassesTable(metrics: PhaseMetrics): string {
  const { byClass, samples, total } = metrics.requests;
  const classes = Object.entries(byClass).sort((a, b) => b[1] - a[1]);
  if (classes.length === 0) return '<div><h3>Errors</h3><p>No request failed.</p></div>';
  const rows = classes.map(
    ([name, count]) =>
      `<tr><td><code>${escapeHtml(name)}</code></td><td class="num">${count}</td>` +
      `<td class="num">${escapeHtml(formatValue('ratio', total > 0 ? count / total : null))}</td>` +
      `<td><code class="sample">${escapeHtml(samples[name] ?? '')}</code></td></tr>`,
  );
  return `<div><h3>Errors by class</h3><table>
<thead><tr><th>class</th><th class="num">requests</th><th class="num">share</th><th>first message</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}

function machineLine(machine: PhaseMetrics['generator']['machine']): string {
  if (!machine) return '';
  const cores = (value: number) => value.toFixed(2);
  return (
    `<li>Busiest machine ${escapeHtml(machine.host)}: ${machine.cores} cores; grym-perf used ${cores(machine.harnessCores)}, ` +
    `other processes ${cores(machine.otherCores)}, steal ${cores(machine.stealCores)}.</li>`
  );
}

/** The generator's verdict: whether the latencies measure the target, and if not, whose fault. */
export function generatorHealth(metrics: PhaseMetrics): string {
  const { generator, load } = metrics;
  const cause =
    generator.cause === 'machine'
      ? 'cause: the machine (other processes or the hypervisor held the CPU)'
      : 'cause: the harness (grym-perf itself was the bottleneck)';
  const verdict = generator.trustworthy
    ? `<p class="health">${verdictMark(true)}<span>Trustworthy: the generator kept up, so the latencies measure the target.</span></p>`
    : `<p class="health">${warningMark()}<span><strong>Not trustworthy</strong>, ${cause}: ` +
      'the latencies partly measure the load generator.</span></p>';
  const items = [
    `<li>Event-loop lag p99 ${ms(generator.eventLoopLag?.p99)}, max ${ms(generator.eventLoopLag?.max)}; busiest thread ` +
      `${escapeHtml(formatValue('ratio', generator.busiestUtilization))} busy.</li>`,
    machineLine(generator.machine),
    ...generator.warnings.map((warning) => `<li>${escapeHtml(warning)}</li>`),
  ];
  if (load.mode === 'open') {
    items.push(
      `<li>Open loop: ${load.scheduled} arrivals scheduled, ${load.late} started late (over 10 ms), ${load.dropped} never started; ` +
        `scheduling lag p99 ${ms(load.schedulingLag?.p99)}.</li>`,
    );
  }
  return `<div><h3>Generator health</h3>${verdict}<ul>${items.filter((item) => item !== '').join('')}</ul></div>`;
}

/** Shards of the phase: the same for local (one worker) and distributed runs. */
export function shardsTable(phase: PhaseReport): string {
  if (phase.shards.length === 0) return '';
  const rows = phase.shards.map(
    (shard) =>
      `<tr><td class="num">${shard.shardIndex}</td><td>${escapeHtml(shard.worker)}</td><td>${escapeHtml(shard.host)}</td>` +
      `<td class="num">${shard.threads}</td><td class="num">${shard.attempts}</td><td class="num">${ms(shard.durationMs)}</td></tr>`,
  );
  return `<div><h3>Shards</h3><table>
<thead><tr><th class="num">shard</th><th>worker</th><th>host</th><th class="num">threads</th><th class="num">attempts</th>
<th class="num">duration</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}
