/**
 * The run's reports: `report.json` (the versioned `RunReport`) and `report.md`, a Markdown report
 * for a pull request: the verdict, one table of criteria per phase, then the phase's metrics.
 * The renderers are pure, so the dashboard and the aggregator's job log reuse them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CriterionResult } from '../shared/criteria';
import type { LeakVerdict, PhaseMetrics, Summary } from '../shared/phase-metrics';
import type { PhaseReport, RunReport } from '../shared/run-report';
import { formatValue } from '../shared/units';

const ms = (value: number | null | undefined) => formatValue('duration', value);
const bytes = (value: number | null | undefined) => formatValue('bytes', value);
const percent = (value: number | null | undefined) => formatValue('ratio', value);
const verdict = (passed: boolean) => (passed ? 'PASS' : 'FAIL');
// Markdown table cells cannot hold a raw pipe.
const cell = (text: string) => text.replace(/\|/g, '\\|');

function criterionRow(criterion: CriterionResult): string {
  const result = criterion.passed ? '✅ pass' : `❌ fail: ${criterion.value === null ? 'no data' : `${criterion.margin !== null && criterion.margin > 0 ? 'over' : 'under'} by ${formatValue(criterion.kind, Math.abs(criterion.margin ?? 0))}`}`;
  return `| \`${criterion.metric}\` | ${formatValue(criterion.kind, criterion.value)} | ${cell(`${criterion.op} ${formatValue(criterion.kind, criterion.threshold)}`)} | ${result} |`;
}

function latencyRow(name: string, summary: Summary | null): string | undefined {
  if (!summary) return undefined;
  return `| ${name} | ${summary.count} | ${ms(summary.p50)} | ${ms(summary.p90)} | ${ms(summary.p95)} | ${ms(summary.p99)} | ${ms(summary.max)} | ${ms(summary.mean)} |`;
}

function trend(verdict: LeakVerdict): string {
  if (verdict.slopeBytesPerSecond === null) return 'trend: not enough samples';
  const perMinute = `${verdict.slopeBytesPerSecond >= 0 ? '+' : '-'}${bytes(Math.abs(verdict.slopeBytesPerSecond) * 60)}/min`;
  return verdict.verdict === 'leak' ? `**LEAK**: a steady trend of ${perMinute}` : `trend ${perMinute} (no leak)`;
}

function metricsSection(metrics: PhaseMetrics): string[] {
  const lines: string[] = [];
  const { requests, throughput, concurrency, context, memory, stability, tokens } = metrics;
  lines.push(
    `- **Requests**: ${requests.total} measured, ${requests.ok} ok, ${requests.errors} failed (${percent(requests.errorRate)}) in ${ms(metrics.durationMs)}` +
      (requests.errors > 0 ? `; by class: ${Object.entries(requests.byClass).map(([name, count]) => `${name} ${count}`).join(', ')}` : ''),
    `- **Tokens per request**: p50 ${formatValue('rate', tokens.perRequestRate?.p50)}, p10 ${formatValue('rate', tokens.perRequestRate?.p10)} output tokens per second of each request`,
    `- **Throughput**: ${formatValue('rate', throughput.requestsPerSecond)} requests (goodput ${formatValue('rate', throughput.goodput)}: ${requests.good} met every per-request SLO), ${formatValue('rate', throughput.outputTokensPerSecond)} output tokens (${tokens.output} output, ${tokens.input} input tokens; counts ${tokens.source === 'server' ? "from the server's usage" : tokens.source === 'none' ? 'none' : `${tokens.source}: estimated from words where the server gave no usage`})`,
    metrics.load.mode === 'open'
      ? `- **Open loop**: ${metrics.load.scheduled} arrivals scheduled, ${metrics.load.late} started late (> 10 ms), ${metrics.load.dropped} dropped; generator scheduling lag p99 ${ms(metrics.load.schedulingLag?.p99)}; in flight: cap ${concurrency.requested}, mean ${formatValue('count', concurrency.mean)}, peak ${concurrency.peak}`
      : `- **Concurrency**: requested ${concurrency.requested}, achieved mean ${formatValue('count', concurrency.mean)}, peak ${concurrency.peak} (closed loop: latencies are service times at this concurrency)`,
  );
  if (context.probes > 0 || context.crossSwitchProbes > 0) {
    lines.push(
      `- **Context**: preservation ${percent(context.preservation)} (${context.recalled}/${context.probes} facts recalled on the same model)` +
        (context.crossSwitchProbes > 0 ? `, accuracy across switches ${percent(context.accuracy)} (${context.crossSwitchRecalled}/${context.crossSwitchProbes})` : ''),
    );
    if (context.byDistance.length > 0) {
      lines.push(`  - recall by turn distance: ${context.byDistance.map((bucket) => `${bucket.distance}: ${bucket.recalled}/${bucket.probes}`).join(', ')}`);
    }
  }
  if (metrics.switch.count > 0) {
    lines.push(`- **Model switches**: ${metrics.switch.count}, switch time p50 ${ms(metrics.switch.time?.p50)} / p95 ${ms(metrics.switch.time?.p95)}, warm p50 ${ms(metrics.switch.warm?.p50)}, penalty ${ms(metrics.switch.penaltyP50)}`);
  }
  lines.push(
    `- **Memory (harness)**: RSS peak ${bytes(memory.harness.rssPeak)}, growth ${bytes(memory.harness.rssGrowth)}, thread heap peak ${bytes(memory.harness.heapPeak)}; ${trend(memory.harness)}`,
    `- **Memory (target, ${memory.target.source})**: peak ${bytes(memory.target.peak)}, growth ${bytes(memory.target.growth)}; ${trend(memory.target)}`,
    ...(memory.gcPauses ? [`- **GC pauses**: ${memory.gcPauses.count}, p99 ${ms(memory.gcPauses.p99)}, max ${ms(memory.gcPauses.max)}`] : []),
    ...(memory.heapSnapshots.length > 0 ? [`- **Heap snapshots** (start and end of threads that grew): ${memory.heapSnapshots.map((file) => `\`${file}\``).join(', ')}`] : []),
    `- **Stability**: ${percent(stability.value)} (${stability.stableWindows} of ${stability.windows} windows of ${ms(stability.windowMs)} stable)`,
    metrics.generator.trustworthy
      ? `- **Generator**: kept up (event-loop lag p99 ${ms(metrics.generator.eventLoopLag?.p99)}, busiest thread ${percent(metrics.generator.busiestUtilization)} busy)`
      : `- **Generator**: ⚠ NOT TRUSTWORTHY, the load generator was the bottleneck: ${metrics.generator.warnings.join('; ')}`,
  );
  const rows = [
    latencyRow('e2e', metrics.latency.e2e),
    latencyRow('response', metrics.latency.response),
    latencyRow('ttft', metrics.latency.ttft),
    latencyRow('tpot', metrics.latency.tpot),
    latencyRow('itl', metrics.latency.itl),
    latencyRow('switch', metrics.switch.time),
    latencyRow('warm', metrics.switch.warm),
    latencyRow('model load', metrics.switch.loadTime),
  ].filter((row): row is string => row !== undefined);
  if (rows.length > 0) {
    lines.push('', '| latency | count | p50 | p90 | p95 | p99 | max | mean |', '|---|---:|---:|---:|---:|---:|---:|---:|', ...rows);
  }
  return lines;
}

function phaseSection(phase: PhaseReport): string[] {
  const lines = [`## ${phase.name} (${phase.scenario}: ${phase.models.join(', ')}): ${verdict(phase.passed)}`, ''];
  if (phase.error) lines.push(`> **Phase did not complete**: ${phase.error.message}`, '');
  if (!phase.metrics.generator.trustworthy) lines.push(`> **Results not trustworthy**: ${phase.metrics.generator.warnings.join('; ')}`, '');
  if (phase.criteria.length > 0) {
    lines.push('| Metric | Value | Threshold | Result |', '|---|---:|---|---|', ...phase.criteria.map(criterionRow), '');
  } else {
    lines.push('_No criteria: this phase only measures._', '');
  }
  lines.push(...metricsSection(phase.metrics), '');
  if (phase.shards.length > 1 || phase.shards.some((shard) => shard.attempts > 1)) {
    lines.push('| shard | worker | threads | attempts | duration |', '|---:|---|---:|---:|---:|');
    for (const shard of phase.shards) lines.push(`| ${shard.shardIndex} | ${cell(shard.worker)} | ${shard.threads} | ${shard.attempts} | ${ms(shard.durationMs)} |`);
    lines.push('');
  }
  return lines;
}

/** The Markdown report. */
export function renderMarkdownReport(report: RunReport): string {
  const failed = report.phases.flatMap((phase) => phase.criteria.filter((c) => !c.passed).map((c) => `${phase.name}: ${c.metric}`));
  const lines = [
    `# grym-perf: ${report.plan.name}: ${report.passed ? 'PASS ✅' : 'FAIL ❌'}`,
    '',
    report.passed ? `All ${report.phases.reduce((sum, p) => sum + p.criteria.length, 0)} criteria passed.` : `Failed: ${failed.length > 0 ? failed.join('; ') : 'a phase did not complete'}.`,
    '',
    '| run | |',
    '|---|---|',
    `| run id | ${report.runId} |`,
    `| plan | ${cell(report.plan.source)} (seed ${report.plan.seed}) |`,
    `| mode | ${report.mode} |`,
    `| started | ${report.startedAt} |`,
    `| duration | ${ms(report.durationMs)} |`,
    `| grym-perf | ${report.tool.version}, Node ${report.tool.node}, ${cell(report.tool.host)} (${report.tool.platform}) |`,
    `| workers | ${report.workers.map((w) => cell(`${w.worker} (${w.host}, Node ${w.node}, ${w.threads}/${w.cpus} threads/cores)`)).join('<br>') || 'none'} |`,
    '',
    ...report.phases.flatMap(phaseSection),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

/** A few lines for the console: the verdict of every criterion. */
export function renderSummary(report: RunReport): string {
  const lines = [`${report.plan.name}: ${verdict(report.passed)} (${report.phases.length} phases in ${ms(report.durationMs)}, run ${report.runId})`];
  for (const phase of report.phases) {
    lines.push(`  ${phase.name}: ${verdict(phase.passed)}${phase.error ? ` (${phase.error.message})` : ''}`);
    for (const warning of phase.metrics.generator.warnings) lines.push(`    ⚠ untrustworthy: ${warning}`);
    for (const criterion of phase.criteria) lines.push(`    ${criterion.passed ? '✔' : '✘'} ${criterion.metric}: ${criterion.verdict}`);
  }
  return lines.join('\n');
}

export async function writeReports(report: RunReport, outDir: string): Promise<{ jsonPath: string; markdownPath: string }> {
  await mkdir(outDir, { recursive: true });
  const jsonPath = join(outDir, 'report.json');
  const markdownPath = join(outDir, 'report.md');
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdownPath, renderMarkdownReport(report));
  return { jsonPath, markdownPath };
}
