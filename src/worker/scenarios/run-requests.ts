/**
 * The `requests` scenario: `concurrency` conversations, each an async loop that sends its next
 * turn as soon as the previous reply ended. Concurrency is held, never batched (closed loop: the
 * latencies are service times at that concurrency). Ends at the phase's duration or request cap,
 * whichever comes first; requests in flight at the deadline are awaited and counted.
 */
import { deriveSeed, splitEvenly } from '../../shared/shard-task';
import { Conversation } from '../conversation';
import { stagedValueAt } from './load-schedule';
import { sendTurn } from './send-turn';
import type { ScenarioContext } from './scenario-context';

export async function runRequests(context: ScenarioContext): Promise<void> {
  const { task, recorder, target } = context;
  const phase = task.phase;
  const measureFromMs = task.startAtMs + phase.load.warmup;
  const deadlineMs = phase.load.duration === undefined ? Infinity : measureFromMs + phase.load.duration;
  // Every conversation loop of the shard has a fixed number and a fixed share of the request cap
  // (not a shared counter), so what each conversation sends depends neither on timing nor on how
  // the loops are spread over threads: the same plan sends the same requests.
  const shares = task.requests === undefined ? undefined : splitEvenly(task.requests, task.concurrency);

  // Staged closed loop: loop i of the shard runs while the ramped concurrency, scaled to this
  // shard's share, is above i; idle loops look again every 50 ms.
  const stages = phase.load.stages;
  const isActive = (loopIndex: number) =>
    !stages || loopIndex < Math.round((stagedValueAt(stages, 'concurrency', Date.now() - task.startAtMs) * task.concurrency) / phase.load.concurrency);
  const loop = async (loopIndex: number) => {
    let remaining = shares ? (shares[loopIndex] as number) : Infinity;
    for (let round = 0; ; round++) {
      const model = phase.models[(loopIndex + round) % phase.models.length] as string;
      const conversation = new Conversation(phase, deriveSeed(task.seed, loopIndex, round));
      while (!conversation.finished) {
        if (Date.now() >= deadlineMs) return;
        if (!isActive(loopIndex)) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        const measured = recorder.isMeasuring();
        if (measured) {
          if (remaining <= 0) return;
          remaining--;
          recorder.started();
        }
        const { outcome, probe } = await sendTurn(target, conversation, model, phase.conversation.maxTokens);
        if (measured) {
          recorder.record(outcome);
          if (probe) recorder.recordProbe(probe);
          context.onRequestDone();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: context.concurrency }, (_, index) => loop(context.firstLoop + index)));
}
