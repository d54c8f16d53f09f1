/**
 * Open-loop `requests`: requests arrive on a schedule whatever happened to earlier ones, up to
 * `concurrency` in flight. An arrival that finds no free slot waits; its latency still counts from
 * its scheduled start (response time), beside the service time from the actual send, so queueing
 * is never hidden (no coordinated omission). Arrivals still waiting when the phase ends are dropped.
 * Each arrival continues the next idle conversation, so context probes work as in closed loop.
 * A stopped shard ends the schedule at once: requests in flight are abandoned, waiting arrivals dropped.
 */
import { deriveSeed } from '../../shared/derive-seed';
import { Conversation } from '../conversation';
import { sendTurn } from './send-turn';
import { toPerfMs } from '../recorder';
import { arrivalOffsets } from './load-schedule';
import type { ScenarioContext } from './scenario-context';

/**
 * Sends one arrival on the next idle conversation (or a new one) and records it when measured; a
 * request the harness abandoned (its phase stopped) is taken out of flight and not recorded.
 */
function arrivalSender(context: ScenarioContext): (intendedPerfMs: number, measured: boolean) => Promise<void> {
  const { task, recorder } = context;
  const phase = task.phase;
  const idle: Array<{ conversation: Conversation; model: string }> = [];
  let conversations = 0;
  return async (intendedPerfMs, measured) => {
    const { conversation, model } = idle.pop() ?? {
      conversation: new Conversation(phase, deriveSeed(task.seed, context.firstLoop, conversations), task.runId),
      model: phase.models[conversations++ % phase.models.length] as string,
    };
    if (measured) recorder.started();
    const sent = await sendTurn(context, conversation, model);
    if (sent === null) {
      if (measured) recorder.abandoned();
      return;
    }
    if (!conversation.finished) idle.push({ conversation, model });
    if (measured) {
      recorder.record(sent.outcome, { model, conversation: conversation.id, intendedStartMs: intendedPerfMs });
      if (sent.probe) recorder.recordProbe(sent.probe);
      context.onRequestDone();
    }
  };
}

export async function runOpenLoop(context: ScenarioContext): Promise<void> {
  const { task, recorder, startAtMs, stop } = context;
  const phase = task.phase;
  const endMs = phase.load.warmupMs + (phase.load.durationMs ?? 0);
  // Measured or not is decided on the offset, as the schedule made it: an arrival just before the
  // end must not turn unmeasured by rounding once added to an epoch time.
  const measuredFromMs = phase.load.warmupMs;
  const measuredUntilMs = endMs - phase.load.cooldownMs;
  // Slices of all shards split the rate as they split the concurrency cap.
  const share = context.concurrency / phase.load.concurrency;
  let remaining = task.requests === undefined ? Infinity : Math.round((task.requests * context.concurrency) / task.concurrency);
  // A count, not a Set of the requests' promises: a Set gaining and losing an entry per request keeps
  // the removed ones reachable until it is rebuilt, and every scavenge promoted them (see InFlightRequests).
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let failure: { error: unknown } | undefined;
  const send = arrivalSender(context);

  // Arrivals wait here for a free slot; the dispatcher below never waits for one, so its own
  // lateness (scheduling lag) stays apart from the target's (the wait, inside response time).
  const endEpochMs = startAtMs + endMs;
  const waiting: Array<{ intendedPerfMs: number; measured: boolean }> = [];
  const ended = () => {
    inFlight--;
    if (inFlight === 0) drained?.();
    pump();
  };
  const pump = () => {
    while (inFlight < context.concurrency && waiting.length > 0 && Date.now() < endEpochMs && !stop.stopped) {
      const arrival = waiting.shift() as (typeof waiting)[number];
      inFlight++;
      send(arrival.intendedPerfMs, arrival.measured).then(ended, (error: unknown) => {
        failure ??= { error };
        ended();
      });
    }
  };

  for (const offsetMs of arrivalOffsets(phase.load, endMs, share, deriveSeed(task.seed, context.firstLoop, 0x0a11))) {
    const intendedEpochMs = startAtMs + offsetMs;
    const measured = offsetMs >= measuredFromMs && offsetMs < measuredUntilMs;
    if (stop.stopped || (measured && remaining-- <= 0)) break;
    const waitMs = intendedEpochMs - Date.now();
    if (waitMs > 1) await stop.sleep(waitMs);
    if (stop.stopped) break;
    if (measured) {
      recorder.recordSchedulingLag(Date.now() - intendedEpochMs);
      recorder.arrival();
    }
    waiting.push({ intendedPerfMs: toPerfMs(intendedEpochMs), measured });
    pump();
  }
  const leftMs = endEpochMs - Date.now();
  if (waiting.length > 0 && leftMs > 0) await stop.sleep(leftMs);
  // The phase is over: arrivals that never got a slot are dropped.
  for (const arrival of waiting.splice(0)) if (arrival.measured) recorder.arrival(true);
  if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
  if (failure) throw failure.error;
}
