/**
 * Open-loop `requests`: requests arrive on a schedule whatever happened to earlier ones, up to
 * `concurrency` in flight. An arrival that finds no free slot waits; its latency still counts from
 * its scheduled start (response time), beside the service time from the actual send, so queueing
 * is never hidden (no coordinated omission). Arrivals still waiting when the phase ends are dropped.
 * Each arrival continues the next idle conversation, so context probes work as in closed loop.
 */
import { deriveSeed } from '../../shared/shard-task';
import { Conversation } from '../conversation';
import { sendTurn } from './send-turn';
import { toPerfMs } from '../recorder';
import { arrivalOffsets } from './load-schedule';
import type { ScenarioContext } from './scenario-context';

export async function runOpenLoop(context: ScenarioContext): Promise<void> {
  const { task, recorder, target } = context;
  const phase = task.phase;
  const endMs = phase.load.warmup + (phase.load.duration ?? 0);
  // Slices of all shards split the rate as they split the concurrency cap.
  const share = context.concurrency / phase.load.concurrency;
  let remaining = task.requests === undefined ? Infinity : Math.round((task.requests * context.concurrency) / task.concurrency);
  const idle: Array<{ conversation: Conversation; model: string }> = [];
  let conversations = 0;
  const inFlight = new Set<Promise<void>>();

  const send = async (intendedPerfMs: number, measured: boolean) => {
    const { conversation, model } = idle.pop() ?? {
      conversation: new Conversation(phase, deriveSeed(task.seed, context.firstLoop, conversations)),
      model: phase.models[conversations++ % phase.models.length] as string,
    };
    if (measured) recorder.started();
    const { outcome, probe } = await sendTurn(target, conversation, model, phase.conversation.maxTokens);
    if (!conversation.finished) idle.push({ conversation, model });
    if (measured) {
      recorder.record(outcome, 'plain', intendedPerfMs);
      if (probe) recorder.recordProbe(probe);
      context.onRequestDone();
    }
  };

  // Arrivals wait here for a free slot; the dispatcher below never waits for one, so its own
  // lateness (scheduling lag) stays apart from the target's (the wait, inside response time).
  const endEpochMs = task.startAtMs + endMs;
  const waiting: Array<{ intendedPerfMs: number; measured: boolean }> = [];
  const pump = () => {
    while (inFlight.size < context.concurrency && waiting.length > 0 && Date.now() < endEpochMs) {
      const arrival = waiting.shift() as (typeof waiting)[number];
      const request = send(arrival.intendedPerfMs, arrival.measured).finally(() => {
        inFlight.delete(request);
        pump();
      });
      inFlight.add(request);
    }
  };

  for (const offsetMs of arrivalOffsets(phase.load, endMs, share, deriveSeed(task.seed, context.firstLoop, 0x0a11))) {
    const intendedEpochMs = task.startAtMs + offsetMs;
    const measured = recorder.isMeasuring(intendedEpochMs);
    if (measured && remaining-- <= 0) break;
    const waitMs = intendedEpochMs - Date.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    if (measured) {
      recorder.recordSchedulingLag(Date.now() - intendedEpochMs);
      recorder.arrival();
    }
    waiting.push({ intendedPerfMs: toPerfMs(intendedEpochMs), measured });
    pump();
  }
  const leftMs = endEpochMs - Date.now();
  if (waiting.length > 0 && leftMs > 0) await new Promise((resolve) => setTimeout(resolve, leftMs));
  // The phase is over: arrivals that never got a slot are dropped.
  for (const arrival of waiting.splice(0)) if (arrival.measured) recorder.arrival(true);
  while (inFlight.size > 0) await Promise.all(inFlight);
}
