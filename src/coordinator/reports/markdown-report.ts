/**
 * `report.md`, a Markdown report for a pull request: the verdict, one table of criteria per phase,
 * then the phase's metrics, one bullet each. Pure, so the dashboard and the aggregator's job log
 * reuse it. Everything users or servers wrote (plan name and path, run id, models, worker and host
 * names, error messages and bodies) is escaped: it renders as text, never as HTML or Markdown.
 */
import type { CriterionResult } from '../../shared/criteria';
import type { LeakVerdict, PhaseMetrics, Summary } from '../../shared/phase-metrics';
import type { PhaseReport, RunReport } from '../../shared/run-report';
import { formatValue, type TargetMemoryUnit } from '../../shared/units';
import { noLeakWords, trendPerMinute } from './memory-trend';

const ms = (value: number | null | undefined) => formatValue('duration', value);
const bytes = (value: number | null | undefined) => formatValue('bytes', value);
const percent = (value: number | null | undefined) => formatValue('ratio', value);
const rate = (value: number | null | undefined) => formatValue('rate', value);
const count = (value: number | null | undefined) => formatValue('count', value);
export const verdict = (passed: boolean) => (passed ? 'PASS' : 'FAIL');

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Text someone else wrote, safe in report.md: HTML-significant characters as entities, Markdown's
 * backslash, brackets (links) and pipes (table cells) escaped, line breaks folded, so that a model
 * named `<img src=x onerror=alert(1)>` or a server's error page shows as what it is.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[&<>]/g, (char) => ENTITIES[char] as string)
    .replace(/[\\[\]|]/g, (char) => `\\${char}`)
    .replace(/\s*[\r\n]+\s*/g, ' ');
}
const cell = escapeMarkdown;
/** Our own text in a table cell: only its pipes need escaping (a threshold's `<` reads better raw). */
const ownCell = (text: string) => text.replace(/\|/g, '\\|');

/** The most frequent error classes of a phase, each with its count and the first failure's message or body. */
export function topErrors(requests: PhaseMetrics['requests'], limit: number): Array<{ errorClass: string; count: number; sample: string }> {
  return Object.entries(requests.byClass)
    .sort(([, a], [, b]) => b - a)
    .slice(0, limit)
    .map(([errorClass, count]) => ({ errorClass, count, sample: requests.samples[errorClass] ?? '' }));
}

/** Error classes shown with their sample in report.md. */
const REPORTED_ERROR_CLASSES = 5;

function criterionRow(criterion: CriterionResult): string {
  const { kind, margin } = criterion;
  const missed =
    criterion.value === null
      ? 'no data'
      : `${margin !== null && margin > 0 ? 'over' : 'under'} by ${formatValue(kind, Math.abs(margin ?? 0))}`;
  const result = criterion.passed ? '✅ pass' : `❌ fail: ${missed}`;
  const threshold = ownCell(`${criterion.op} ${formatValue(kind, criterion.threshold)}`);
  return `| \`${criterion.metric}\` | ${formatValue(kind, criterion.value)} | ${threshold} | ${result} |`;
}

function latencyRow(name: string, summary: Summary | null): string | undefined {
  if (!summary) return undefined;
  const cells = [summary.p50, summary.p90, summary.p95, summary.p99, summary.max, summary.mean].map(ms);
  return `| ${name} | ${summary.count} | ${cells.join(' | ')} |`;
}

function trend(verdict: LeakVerdict, unit?: TargetMemoryUnit): string {
  const perMinute = trendPerMinute(verdict, unit);
  if (perMinute === null) return 'trend: not enough samples';
  return verdict.verdict === 'leak' ? `**LEAK**: a steady trend of ${perMinute}` : `trend ${perMinute} (${noLeakWords(verdict)})`;
}

function requestsLines({ requests, durationMs }: PhaseMetrics): string[] {
  const byClass = Object.entries(requests.byClass).map(([name, n]) => `${cell(name)} ${n}`);
  const failed = `${requests.errors} failed (${percent(requests.errorRate)})`;
  const classes = byClass.length > 0 ? `; by class: ${byClass.join(', ')}` : '';
  const samples = topErrors(requests, REPORTED_ERROR_CLASSES).map(
    ({ errorClass, count, sample }) => `  - ${cell(errorClass)} (${count}): ${sample ? cell(sample) : '_no message_'}`,
  );
  return [`- **Requests**: ${requests.total} measured, ${requests.ok} ok, ${failed} in ${ms(durationMs)}${classes}`, ...samples];
}

function connectionsLine({ connections }: PhaseMetrics): string[] {
  if (!connections) return [];
  const retried =
    connections.retried > 0
      ? `; ${connections.retried} request${connections.retried === 1 ? '' : 's'} sent again on a fresh connection because the server ` +
        'closed a reused one before answering (the server never saw the first send: not errors)'
      : '';
  return [`- **Connections**: ${connections.opened} opened over the phase, warm-up included${retried}`];
}

function throughputLines({ requests, throughput, tokens }: PhaseMetrics): string[] {
  const counts =
    tokens.source === 'server'
      ? "from the server's usage"
      : tokens.source === 'none'
        ? 'none'
        : `${tokens.source}: estimated from words where the server gave no usage`;
  const goodput = `goodput ${rate(throughput.goodput)}: ${requests.good} met every per-request SLO`;
  const perRequest = `p50 ${rate(tokens.perRequestRate?.p50)}, p10 ${rate(tokens.perRequestRate?.p10)}`;
  const cached =
    tokens.cachedInput === null
      ? ''
      : `; ${tokens.cachedInput} input tokens (${percent(tokens.cachedInputRatio)}) answered from the server's prompt cache`;
  return [
    `- **Tokens per request**: ${perRequest} output tokens per second of each request`,
    `- **Throughput**: ${rate(throughput.requestsPerSecond)} requests (${goodput}), ` +
      `${rate(throughput.outputTokensPerSecond)} output tokens (${tokens.output} output, ${tokens.input} input tokens; counts ${counts}${cached})`,
  ];
}

function loadLine({ load, concurrency }: PhaseMetrics): string {
  const inFlight = `mean ${count(concurrency.mean)}, peak ${concurrency.peak}`;
  if (load.mode === 'closed') {
    const closedLoop = 'closed loop: latencies are service times at this concurrency';
    return `- **Concurrency**: requested ${concurrency.requested}, achieved ${inFlight} (${closedLoop})`;
  }
  const arrivals = `${load.scheduled} arrivals scheduled, ${load.late} started late (> 10 ms), ${load.dropped} dropped`;
  const lag = `generator scheduling lag p99 ${ms(load.schedulingLag?.p99)}`;
  return `- **Open loop**: ${arrivals}; ${lag}; in flight: cap ${concurrency.requested}, ${inFlight}`;
}

function contextLines({ context }: PhaseMetrics): string[] {
  if (context.probes === 0 && context.crossSwitchProbes === 0) return [];
  const sameModel = `${context.recalled}/${context.probes} facts recalled on the same model`;
  const acrossSwitches =
    context.crossSwitchProbes > 0
      ? `, accuracy across switches ${percent(context.accuracy)} (${context.crossSwitchRecalled}/${context.crossSwitchProbes})`
      : '';
  const lines = [`- **Context**: preservation ${percent(context.preservation)} (${sameModel})${acrossSwitches}`];
  const byDistance = context.byDistance.map((bucket) => `${bucket.distance}: ${bucket.recalled}/${bucket.probes}`);
  if (byDistance.length > 0) lines.push(`  - recall by turn distance: ${byDistance.join(', ')}`);
  return lines;
}

function switchLines({ switch: switches }: PhaseMetrics): string[] {
  if (switches.count === 0) return [];
  const time = `switch time p50 ${ms(switches.time?.p50)} / p95 ${ms(switches.time?.p95)}`;
  return [`- **Model switches**: ${switches.count}, ${time}, warm p50 ${ms(switches.warm?.p50)}, penalty ${ms(switches.penaltyP50)}`];
}

/** Target memory readings that failed (timed out, too large, refused), when any did. */
function failedReadings({ failedReadings: failed, readError }: PhaseMetrics['memory']['target']): string {
  if (failed === 0) return '';
  return `; ${failed} reading${failed === 1 ? '' : 's'} failed (first: ${cell(readError ?? 'no reason')})`;
}

function memoryLines({ memory }: PhaseMetrics): string[] {
  const { harness, target, gcPauses, heapSnapshots } = memory;
  const lines = [
    `- **Memory (harness)**: RSS peak ${bytes(harness.rssPeak)}, growth ${bytes(harness.rssGrowth)}, ` +
      `thread heap peak ${bytes(harness.heapPeak)}; ${trend(harness)}`,
    `- **Memory (target, ${cell(target.source)})**: peak ${formatValue(target.unit, target.peak)}, ` +
      `growth ${formatValue(target.unit, target.growth)}; ${trend(target, target.unit)}` +
      failedReadings(target),
  ];
  if (gcPauses) lines.push(`- **GC pauses**: ${gcPauses.count}, p99 ${ms(gcPauses.p99)}, max ${ms(gcPauses.max)}`);
  if (heapSnapshots.length > 0) {
    lines.push(`- **Heap snapshots** (start and end of threads that grew): ${heapSnapshots.map(cell).join(', ')}`);
  }
  return lines;
}

function healthLines({ stability, generator }: PhaseMetrics): string[] {
  const windows = `${stability.stableWindows} of ${stability.windows} windows of ${ms(stability.windowMs)} stable`;
  const lag = `event-loop lag p99 ${ms(generator.eventLoopLag?.p99)}`;
  const keptUp = `kept up (${lag}, busiest thread ${percent(generator.busiestUtilization)} busy)`;
  const who = generator.cause === 'machine' ? 'other processes held the machine' : 'the load generator was the bottleneck';
  const bottleneck = `⚠ NOT TRUSTWORTHY, ${who}: ${generator.warnings.map(cell).join('; ')}`;
  return [`- **Stability**: ${percent(stability.value)} (${windows})`, `- **Generator**: ${generator.trustworthy ? keptUp : bottleneck}`];
}

function latencyTable(metrics: PhaseMetrics): string[] {
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
  if (rows.length === 0) return [];
  return ['', '| latency | count | p50 | p90 | p95 | p99 | max | mean |', '|---|---:|---:|---:|---:|---:|---:|---:|', ...rows];
}

function metricsSection(metrics: PhaseMetrics): string[] {
  return [
    ...requestsLines(metrics),
    ...connectionsLine(metrics),
    ...throughputLines(metrics),
    loadLine(metrics),
    ...contextLines(metrics),
    ...switchLines(metrics),
    ...memoryLines(metrics),
    ...healthLines(metrics),
    ...latencyTable(metrics),
  ];
}

function shardTable(phase: PhaseReport): string[] {
  if (phase.shards.length <= 1 && phase.shards.every((shard) => shard.attempts <= 1)) return [];
  const rows = phase.shards.map(
    (shard) => `| ${shard.shardIndex} | ${cell(shard.worker)} | ${shard.threads} | ${shard.attempts} | ${ms(shard.durationMs)} |`,
  );
  return ['| shard | worker | threads | attempts | duration |', '|---:|---|---:|---:|---:|', ...rows, ''];
}

/** A phase's heading, what stopped or spoiled it, and its criteria: the phase's part of the verdict. */
function phaseVerdict(phase: PhaseReport): string[] {
  const lines = [`## ${cell(phase.name)} (${cell(phase.scenario)}: ${phase.models.map(cell).join(', ')}): ${verdict(phase.passed)}`, ''];
  if (phase.error) lines.push(`> **Phase did not complete**: ${cell(phase.error.message)}`, '');
  const { stopped } = phase.metrics;
  if (stopped) lines.push(`> **Phase stopped early** at ${new Date(stopped.atMs).toISOString()}: ${cell(stopped.reason)}`, '');
  const { unreadable } = phase.metrics.memory.target;
  if (unreadable) lines.push(`> **Target memory not measured**: ${cell(unreadable)}`, '');
  if (!phase.metrics.generator.trustworthy)
    lines.push(`> **Results not trustworthy**: ${phase.metrics.generator.warnings.map(cell).join('; ')}`, '');
  if (phase.criteria.length > 0) {
    lines.push('| Metric | Value | Threshold | Result |', '|---|---:|---|---|', ...phase.criteria.map(criterionRow), '');
  } else {
    lines.push('_No criteria: this phase only measures._', '');
  }
  return lines;
}

function phaseSection(phase: PhaseReport): string[] {
  return [...phaseVerdict(phase), ...metricsSection(phase.metrics), '', ...shardTable(phase)];
}

function runTable(report: RunReport): string[] {
  const tool = `${cell(report.tool.version)}, Node ${cell(report.tool.node)}, ${cell(report.tool.host)} (${cell(report.tool.platform)})`;
  const workers = report.workers.map((w) => cell(`${w.worker} (${w.host}, Node ${w.node}, ${w.threads}/${w.cpus} threads/cores)`));
  return [
    '| run | |',
    '|---|---|',
    `| run id | ${cell(report.runId)} |`,
    `| plan | ${cell(report.plan.source)} (seed ${report.plan.seed}) |`,
    `| mode | ${report.mode}${report.aborted ? ' (interrupted)' : ''} |`,
    `| started | ${report.startedAt} |`,
    `| duration | ${ms(report.durationMs)} |`,
    `| grym-perf | ${tool} |`,
    `| workers | ${workers.join('<br>') || 'none'} |`,
  ];
}

/** What an interrupted run says first: how much of the plan ran. */
function abortedLine(report: RunReport): string {
  const phases = (report.resolvedPlan as { phases?: unknown } | null)?.phases;
  const planned = Array.isArray(phases) ? phases.length : undefined;
  const of = planned === undefined ? '' : ` of ${planned}`;
  const ran = `${report.phases.length}${of} phase${(planned ?? report.phases.length) === 1 ? '' : 's'}`;
  return (
    `**Interrupted** (Ctrl-C or SIGTERM): ${ran} ran, ` +
    'the last one stopped early and the phases not started were skipped; the numbers below are what was measured.'
  );
}

/** The run's outcome in a heading and a sentence. */
function outcomeLines(report: RunReport): string[] {
  const failed = report.phases.flatMap((phase) => phase.criteria.filter((c) => !c.passed).map((c) => `${cell(phase.name)}: ${c.metric}`));
  const criteria = report.phases.reduce((sum, phase) => sum + phase.criteria.length, 0);
  const outcome = report.aborted ? 'INTERRUPTED ⏹' : report.passed ? 'PASS ✅' : 'FAIL ❌';
  return [
    `# grym-perf: ${cell(report.plan.name)}: ${outcome}`,
    '',
    ...(report.aborted ? [abortedLine(report), ''] : []),
    report.passed ? `All ${criteria} criteria passed.` : `Failed: ${failed.length > 0 ? failed.join('; ') : 'a phase did not complete'}.`,
    '',
  ];
}

/**
 * The verdict part of report.md: the outcome, then each phase's verdict and criteria, without the
 * metrics (what a CI job summary shows).
 */
export function renderMarkdownVerdict(report: RunReport): string {
  return `${[...outcomeLines(report), ...report.phases.flatMap(phaseVerdict)].join('\n').trimEnd()}\n`;
}

/** The Markdown report. */
export function renderMarkdownReport(report: RunReport): string {
  const lines = [...outcomeLines(report), ...runTable(report), '', ...report.phases.flatMap(phaseSection)];
  return `${lines.join('\n').trimEnd()}\n`;
}
