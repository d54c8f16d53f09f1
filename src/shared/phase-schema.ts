/**
 * A phase of a plan: a scenario, its load, conversations, context probes, memory sampling,
 * stability windows, per-request SLOs, generator self-checks and success criteria. Resolved field
 * names carry their unit (`warmupMs`, `leakThresholdBytes`); the names users write do not.
 */
import { z } from 'zod';
import { METRIC_NAMES, parseCriterion, type Criterion } from './criteria';
import { shown } from './describe-issues';
import { byteSize, duration, fraction, planName, PLAN_LIMITS, SHORTEST_INTERVAL } from './plan-units';

const stageSchema = z
  .strictObject({
    duration: duration('Length of this stage.'),
    rate: z
      .number()
      .min(0)
      .max(PLAN_LIMITS.rate)
      .optional()
      .describe("Open loop: arrivals per second reached at the end of the stage; the rate ramps linearly to it from the previous stage's."),
    concurrency: z
      .number()
      .int()
      .min(0)
      .max(PLAN_LIMITS.concurrency)
      .optional()
      .describe("Closed loop: conversations in flight at the end of the stage; ramps linearly from the previous stage's."),
  })
  .transform(({ duration, ...rest }) => ({ ...rest, durationMs: duration }));

const loadSchema = z
  .strictObject({
    mode: z
      .enum(['closed', 'open'])
      .default('closed')
      .describe(
        '"closed": `concurrency` conversations, each sending its next turn when the last reply ended. ' +
          '"open": requests arrive on a schedule (`rate` or `stages`) whether or not earlier ones finished; ' +
          'latency is also measured from the scheduled start.',
      ),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(PLAN_LIMITS.concurrency)
      .default(1)
      .describe(
        'Closed loop: conversations held in flight. ' +
          'Open loop: the most requests in flight; arrivals beyond it wait (and show as scheduling lag and response time).',
      ),
    rate: z.number().positive().max(PLAN_LIMITS.rate).optional().describe('Open loop: arrivals per second.'),
    stages: z
      .array(stageSchema)
      .min(1)
      .max(PLAN_LIMITS.listItems)
      .optional()
      .describe('Open loop: rate ramps, one after the other; they set the phase duration.'),
    arrival: z
      .enum(['constant', 'poisson'])
      .default('constant')
      .describe('Open loop: evenly spaced arrivals, or a Poisson process with the same mean rate (seeded).'),
    duration: duration('How long the measured part of the phase runs (after the warm-up).').optional(),
    requests: z
      .number()
      .int()
      .min(1)
      .max(PLAN_LIMITS.requests)
      .optional()
      .describe('Stop after this many measured requests (whichever of duration and requests comes first).'),
    warmup: duration('Time at the start whose requests are sent but not measured.').prefault('0s'),
    cooldown: duration('Time at the end whose requests are sent but not measured.').prefault('0s'),
  })
  .superRefine((load, ctx) => {
    if (load.mode === 'open' && load.rate === undefined && load.stages === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['rate'],
        message: 'is required for mode "open": give arrivals per second (such as `rate: 20`) or `stages`',
      });
    }
    if (load.mode === 'closed' && load.rate !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rate'], message: 'applies to open-loop load only: add `mode: open`, or remove it' });
    }
    load.stages?.forEach((stage, index) => {
      const [needed, wrong] = load.mode === 'open' ? (['rate', 'concurrency'] as const) : (['concurrency', 'rate'] as const);
      if (stage[needed] === undefined)
        ctx.addIssue({ code: 'custom', path: ['stages', index, needed], message: `is required in the stages of ${load.mode}-loop load` });
      if (stage[wrong] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['stages', index, wrong],
          message: `does not apply to ${load.mode}-loop load: use ${needed}`,
        });
    });
    const largestStage = Math.max(...(load.stages ?? []).map((stage) => stage.concurrency ?? 0));
    if (load.mode === 'closed' && load.stages && load.concurrency < largestStage) {
      ctx.addIssue({
        code: 'custom',
        path: ['concurrency'],
        message: `must be at least the largest stage concurrency (${largestStage}): it sizes the conversation loops the stages ramp`,
      });
    }
    const stagedMs = load.stages?.reduce((sum, stage) => sum + stage.durationMs, 0);
    if (stagedMs !== undefined && stagedMs <= load.warmup + load.cooldown) {
      ctx.addIssue({
        code: 'custom',
        path: ['stages'],
        message: `last ${stagedMs} ms in all, which leaves nothing to measure after warmup and cooldown: lengthen the stages`,
      });
    }
    if (load.stages && load.duration !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'comes from the stages when `stages` is given: remove one of them' });
    }
  })
  .transform(({ duration, warmup, cooldown, ...rest }) => ({
    ...rest,
    // Stages set the phase's length: the measured part is what follows the warm-up.
    durationMs: rest.stages ? rest.stages.reduce((sum, stage) => sum + stage.durationMs, 0) - warmup : duration,
    warmupMs: warmup,
    cooldownMs: cooldown,
  }))
  .describe('Load of a phase: closed loop (concurrency) or open loop (arrival rate).');

const conversationSchema = z.strictObject({
  turns: z
    .number()
    .int()
    .min(1)
    .max(PLAN_LIMITS.turns)
    .default(8)
    .describe('User turns in one conversation; then a new conversation starts with an empty history.'),
  promptTokens: z
    .number()
    .int()
    .min(0)
    .max(PLAN_LIMITS.tokens)
    .default(32)
    .describe('Filler words added to each user turn, so that history grows as in a real chat.'),
  maxTokens: z.number().int().min(1).max(PLAN_LIMITS.tokens).default(32).describe('Output tokens requested per reply (`max_tokens`).'),
  systemPrompt: z
    .string()
    .max(PLAN_LIMITS.tokens * 10, 'must be at most 10,000,000 characters (a million words)')
    .prefault('You are a helpful assistant.')
    .describe('System message that opens each conversation.'),
  prompts: z
    .enum(['per-run', 'repeat'])
    .default('per-run')
    .describe(
      "`per-run`: each conversation's system message starts with the run's id, so no run is answered from a prompt cache " +
        "that an earlier run filled (within a run, a conversation's own history is cached, as in real use). `repeat`: the " +
        'same prompts in every run of the same seed, so a server may answer a rerun from its cache, on purpose.',
    ),
});

const contextSchema = z.strictObject({
  facts: z
    .number()
    .int()
    .min(0)
    .max(PLAN_LIMITS.turns)
    .default(0)
    .describe('Facts planted per conversation ("the code word for X is Y") and probed in a later turn. 0 turns probes off.'),
  minDistance: z.number().int().min(1).max(PLAN_LIMITS.turns).default(2).describe('Fewest turns between planting a fact and probing it.'),
});

const switchSchema = z.strictObject({
  cycles: z.number().int().min(1).max(PLAN_LIMITS.switchRepeats).default(3).describe('Times the scenario goes through all its models.'),
  requestsPerModel: z
    .number()
    .int()
    .min(2)
    .max(PLAN_LIMITS.switchRepeats)
    .default(4)
    .describe('Requests sent to a model before switching to the next; the first pays the switch, the others are warm.'),
});

const memorySchema = z
  .strictObject({
    interval: duration('Interval between memory samples of harness and target.', { min: SHORTEST_INTERVAL }).prefault('500ms'),
    leakThreshold: byteSize('Growth along a steady upward trend over the phase that counts as a leak.').prefault('50MB'),
  })
  .transform(({ interval, leakThreshold }) => ({ intervalMs: interval, leakThresholdBytes: leakThreshold }));

const stabilitySchema = z
  .strictObject({
    window: duration('Width of the windows the stability metric is computed over.', { min: SHORTEST_INTERVAL }).prefault('1s'),
    maxErrorRate: fraction('A window with a larger share of failed requests is unstable.').prefault('1%'),
    minThroughputRatio: fraction('A window whose completions fall below this share of the median window is unstable.').prefault('50%'),
  })
  .transform(({ window, ...rest }) => ({ ...rest, windowMs: window }));

const sloSchema = z
  .strictObject({
    ttft: duration('Largest time to first token of a good request.').optional(),
    e2e: duration('Largest end-to-end latency of a good request.').optional(),
    tpot: duration('Largest time per output token of a good request.').optional(),
    itl: duration('Largest gap between two tokens of a good request.').optional(),
  })
  .transform(({ ttft, e2e, tpot, itl }) => ({ ttftMs: ttft, e2eMs: e2e, tpotMs: tpot, itlMs: itl }))
  .describe('Per-request service levels: goodput counts the successful requests that meet all of them.');

const generatorSchema = z
  .strictObject({
    maxEventLoopLag: duration('A generator thread whose event loop lags more than this (p99) cannot be trusted to send on time.').prefault(
      '50ms',
    ),
    maxUtilization: fraction('A generator thread busier than this was the bottleneck.').prefault('90%'),
    maxSchedulingLag: duration('Open loop: arrivals started later than this (p99) mean the generator fell behind.').prefault('50ms'),
    maxGcPause: duration(
      'A generator thread whose garbage-collection pauses last longer than this (p99) held the requests in flight meanwhile.',
    ).prefault('20ms'),
    failOnUntrustworthy: z
      .boolean()
      .default(false)
      .describe('Fail the phase when the generator itself was the bottleneck (it is always flagged in the report).'),
  })
  .transform(({ maxEventLoopLag, maxSchedulingLag, maxGcPause, ...rest }) => ({
    ...rest,
    maxEventLoopLagMs: maxEventLoopLag,
    maxSchedulingLagMs: maxSchedulingLag,
    maxGcPauseMs: maxGcPause,
  }))
  .describe('Self-checks of the load generator.');

const abortSchema = z
  .strictObject({
    connectionFailures: z
      .number()
      .int()
      .min(0)
      .max(PLAN_LIMITS.abortCount)
      .default(20)
      .describe(
        'Stop the phase after this many consecutive requests that never reached the server (connection refused, reset before ' +
          'any response, connect timeout). 0 turns it off.',
      ),
    consecutiveFailures: z
      .number()
      .int()
      .min(0)
      .max(PLAN_LIMITS.abortCount)
      .default(0)
      .describe('Stop after this many consecutive failed requests of any class. 0 (default) turns it off.'),
    errorRate: z
      .strictObject({
        above: fraction('Stop when the share of failed requests in the window is above this.'),
        window: duration('The window the error rate is computed over, ending now.', { min: SHORTEST_INTERVAL }).prefault('10s'),
        minRequests: z
          .number()
          .int()
          .min(1)
          .max(PLAN_LIMITS.abortCount)
          .default(20)
          .describe('Fewest requests in the window before the rate is judged.'),
      })
      .transform(({ window, ...rest }) => ({ ...rest, windowMs: window }))
      .optional()
      .describe('Stop when too many requests fail over a sliding window.'),
  })
  .describe('Abort conditions: when one holds, the phase stops early and fails, naming the condition and when it held; the run goes on.');

/** Whether a value is an object written as a map ({ key: value }), not a list or a class instance. */
function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * Criteria are parsed by hand rather than by `z.record`, which skips a `__proto__` key without a
 * word: every key the user wrote (own keys only) must reach `parseCriterion` and be judged there.
 */
function parseCriteria(written: Record<string, unknown>, ctx: z.core.ParsePayload<unknown>): Criterion[] {
  const metrics = Object.keys(written);
  if (metrics.length > METRIC_NAMES.length) {
    // Each metric can be named once: more keys than metrics means junk, and judging each would cost time for nothing.
    ctx.issues.push({
      code: 'custom',
      input: written,
      message: `names ${metrics.length} metrics, but there are only ${METRIC_NAMES.length}: name each metric once`,
    });
    return [];
  }
  const criteria: Criterion[] = [];
  for (const metric of metrics) {
    const condition = written[metric];
    const parsed =
      typeof condition === 'string'
        ? parseCriterion(metric, condition)
        : { error: `must be a condition with a unit, such as "< 1s" (got ${shown(condition)})` };
    if ('error' in parsed) ctx.issues.push({ code: 'custom', path: [metric], input: condition, message: parsed.error });
    else criteria.push(parsed);
  }
  return criteria;
}

const criteriaSchema = z
  .custom<Record<string, string>>(isPlainMap, {
    error: (issue) => `must be a map of metric to condition, such as \`latency.e2e.p95: "< 1s"\` (got ${shown(issue.input)})`,
  })
  // What editors see (plan.schema.json): the metric names, so that they complete and check them.
  .meta({ type: 'object', propertyNames: { enum: [...METRIC_NAMES] }, additionalProperties: { type: 'string' } })
  .describe('Success criteria: metric path -> condition with a unit, such as `latency.e2e.p95: "< 1s"`.')
  .transform((written, ctx) => parseCriteria(written, ctx));

const phaseFields = z
  .strictObject({
    name: planName('baseline').describe('Phase name, unique in the plan.'),
    description: z.string().optional(),
    scenario: z
      .enum(['requests', 'model-switch'])
      .describe(
        '"requests": concurrent conversations held at `load.concurrency`. ' +
          '"model-switch": alternate between `models` and measure the switch.',
      ),
    models: z
      .array(z.string().min(1).max(PLAN_LIMITS.modelNameChars))
      .min(1)
      .max(PLAN_LIMITS.listItems)
      .describe('Models the phase sends requests to; conversations rotate over them in "requests".'),
    load: loadSchema.prefault({}),
    conversation: conversationSchema.prefault({}),
    context: contextSchema.prefault({}),
    switch: switchSchema.prefault({}).describe('Model-switch settings (scenario "model-switch" only).'),
    memory: memorySchema.prefault({}),
    stability: stabilitySchema.prefault({}),
    slo: sloSchema.prefault({}),
    shards: z
      .number()
      .int()
      .min(1)
      .max(PLAN_LIMITS.shards)
      .default(1)
      .describe('Jobs the phase load is split over (distributed runs); criteria use the merged result.'),
    generator: generatorSchema.prefault({}),
    abort: abortSchema.prefault({}),
    timeLimit: duration('Longest the phase may run, warm-up included: a phase that reaches it stops and fails.', {
      min: { value: '1ms' },
    }).prefault('1h'),
    criteria: criteriaSchema.prefault({}),
  })
  .transform(({ timeLimit, ...rest }) => ({ ...rest, timeLimitMs: timeLimit }));

type ResolvedPhase = z.output<typeof phaseFields>;
type RefineContext = z.RefinementCtx<ResolvedPhase>;

/** Settings that contradict each other. */
function checkPhaseSense(phase: ResolvedPhase, ctx: RefineContext): void {
  const plannedMs = phase.load.warmupMs + (phase.load.durationMs ?? 0);
  if (plannedMs > phase.timeLimitMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['timeLimit'],
      message: `is shorter than the phase's warm-up and duration (${plannedMs} ms): raise it`,
    });
  }
  if (phase.scenario === 'requests' && phase.load.durationMs === undefined && phase.load.requests === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['load'],
      message: 'needs `duration` or `requests` (or both) so that the phase ends: add for example `duration: "30s"`',
    });
  }
  if (phase.load.mode === 'open' && phase.load.durationMs === undefined) {
    // Arrivals are scheduled over a span of time: without one, an open loop would schedule none.
    ctx.addIssue({
      code: 'custom',
      path: ['load', 'duration'],
      message:
        'is required for mode "open": arrivals are scheduled over a time span, `requests` only caps them: add for example `duration: "30s"`',
    });
  }
  if (phase.scenario === 'model-switch' && new Set(phase.models).size < 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['models'],
      message: `needs at least two different models to switch between (got ${JSON.stringify(phase.models)})`,
    });
  }
  if (phase.load.requests !== undefined && phase.load.requests < phase.shards) {
    ctx.addIssue({
      code: 'custom',
      path: ['load', 'requests'],
      message: `must be >= shards (${phase.shards}) so that every shard sends at least one request (got ${phase.load.requests})`,
    });
  }
  const { facts, minDistance } = phase.context;
  if (facts > 0 && facts + minDistance > phase.conversation.turns) {
    ctx.addIssue({
      code: 'custom',
      path: ['context', 'facts'],
      message:
        `${facts} facts probed at least ${minDistance} turns later need conversation.turns >= ${facts + minDistance} ` +
        `(got ${phase.conversation.turns})`,
    });
  }
  if (phase.shards > phase.load.concurrency) {
    ctx.addIssue({
      code: 'custom',
      path: ['shards'],
      message: `must be <= load.concurrency (${phase.load.concurrency}) so that every shard holds a conversation (got ${phase.shards})`,
    });
  }
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** Products of bounded numbers that would still hold too much: a conversation's history, a phase's series. */
function checkPhaseSize(phase: ResolvedPhase, ctx: RefineContext): void {
  const { turns, promptTokens, maxTokens } = phase.conversation;
  const historyTokens = turns * (promptTokens + maxTokens);
  if (historyTokens > PLAN_LIMITS.historyTokens) {
    ctx.addIssue({
      code: 'custom',
      path: ['conversation'],
      message:
        `grows a conversation to ${count(historyTokens)} words of history (turns x (promptTokens + maxTokens)), more than ` +
        `${count(PLAN_LIMITS.historyTokens)}, beyond any model's context window: lower turns, promptTokens or maxTokens`,
    });
  }
  // Requests-bound phases (no duration) may run until their time limit.
  const spanMs = phase.load.durationMs === undefined ? phase.timeLimitMs : phase.load.warmupMs + phase.load.durationMs;
  const series = [
    { path: ['memory', 'interval'], stepMs: phase.memory.intervalMs, what: 'memory samples' },
    { path: ['stability', 'window'], stepMs: phase.stability.windowMs, what: 'stability windows' },
  ];
  for (const { path, stepMs, what } of series) {
    if (spanMs / stepMs <= PLAN_LIMITS.seriesPoints) continue;
    ctx.addIssue({
      code: 'custom',
      path,
      message:
        `makes ${count(spanMs / stepMs)} ${what} over the phase's ${count(spanMs)} ms, more than ${count(PLAN_LIMITS.seriesPoints)}: ` +
        `make it at least ${Math.ceil(spanMs / PLAN_LIMITS.seriesPoints)}ms`,
    });
  }
}

export const phaseSchema = phaseFields.superRefine((phase, ctx) => {
  checkPhaseSense(phase, ctx);
  checkPhaseSize(phase, ctx);
});

export type Phase = z.output<typeof phaseSchema>;
export type PhaseInput = z.input<typeof phaseSchema>;
