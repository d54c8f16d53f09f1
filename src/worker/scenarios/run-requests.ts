/**
 * The `requests` scenario: `concurrency` conversations, each an async loop that sends its next
 * turn as soon as the previous reply ended. Concurrency is held, never batched (closed loop: the
 * latencies are service times at that concurrency). Ends at the phase's duration or request cap,
 * whichever comes first; requests in flight at the deadline are awaited and counted. A stopped
 * shard (abort condition, time limit, interrupt) ends it at once: requests in flight are abandoned.
 */
import { deriveSeed } from '../../shared/derive-seed';
import { splitEvenly } from '../../shared/split-evenly';
import { Conversation } from '../conversation';
import { stagedValueAt } from '../../shared/staged-load';
import { sendTurn } from './send-turn';
import type { ScenarioContext } from './scenario-context';

export async function runRequests(context: ScenarioContext): Promise<void> {
  const { task, recorder, startAtMs, stop } = context;
  const phase = task.phase;
  const measureFromMs = startAtMs + phase.load.warmupMs;
  const deadlineMs = phase.load.durationMs === undefined ? Infinity : measureFromMs + phase.load.durationMs;
  // Every conversation loop of the shard has a fixed number and a fixed share of the request cap
  // (not a shared counter), so what each conversation sends depends neither on timing nor on how
  // the loops are spread over threads: the same plan sends the same requests.
  const shares = task.requests === undefined ? undefined : splitEvenly(task.requests, task.concurrency);

  // Staged closed loop: loop i of the shard runs while the ramped concurrency, scaled to this
  // shard's share, is above i; idle loops look again every 50 ms.
  const stages = phase.load.stages;
  const isActive = (loopIndex: number) =>
    !stages ||
    loopIndex < Math.round((stagedValueAt(stages, 'concurrency', Date.now() - startAtMs) * task.concurrency) / phase.load.concurrency);
  const loop = async (loopIndex: number) => {
    let remaining = shares ? (shares[loopIndex] as number) : Infinity;
    for (let round = 0; ; round++) {
      const model = phase.models[(loopIndex + round) % phase.models.length] as string;
      const conversation = new Conversation(phase, deriveSeed(task.seed, loopIndex, round), task.runId);
      while (!conversation.finished) {
        if (Date.now() >= deadlineMs || stop.stopped) return;
        if (!isActive(loopIndex)) {
          await stop.sleep(50);
          continue;
        }
        const measured = recorder.isMeasuring();
        if (measured) {
          if (remaining <= 0) return;
          remaining--;
          recorder.started();
        }
        const sent = await sendTurn(context, conversation, model);
        if (sent === null) {
          if (measured) recorder.abandoned();
          return;
        }
        if (measured) {
          recorder.record(sent.outcome, { model, conversation: conversation.id });
          if (sent.probe) recorder.recordProbe(sent.probe);
          context.onRequestDone();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: context.concurrency }, (_, index) => loop(context.firstLoop + index)));
}
