/**
 * The `requests` scenario: `concurrency` conversations, each an async loop that sends its next
 * turn as soon as the previous reply ended. Concurrency is held, never batched (closed loop: the
 * latencies are service times at that concurrency). Ends at the phase's duration or request cap,
 * whichever comes first; requests in flight at the deadline are awaited and counted.
 */
import { deriveSeed } from '../../shared/shard-task';
import { Conversation } from '../conversation';
import type { ScenarioContext } from './scenario-context';

export async function runRequests(context: ScenarioContext): Promise<void> {
  const { task, recorder, target } = context;
  const phase = task.phase;
  const measureFromMs = task.startAtMs + phase.load.warmup;
  const deadlineMs = phase.load.duration === undefined ? Infinity : measureFromMs + phase.load.duration;
  let remaining = context.requests ?? Infinity;

  const loop = async (loopIndex: number) => {
    for (let round = 0; ; round++) {
      // Each loop's conversations rotate over the models; seeds are unique per slice, loop and round.
      const model = phase.models[(context.sliceIndex + loopIndex + round) % phase.models.length] as string;
      const conversation = new Conversation(phase, deriveSeed(task.seed, context.sliceIndex, loopIndex, round));
      while (!conversation.finished) {
        if (Date.now() >= deadlineMs) return;
        const measured = recorder.isMeasuring();
        if (measured) {
          if (remaining <= 0) return;
          remaining--;
          recorder.started();
        }
        const turn = conversation.next();
        const outcome = await target.send({ model, messages: turn.messages, maxTokens: phase.conversation.maxTokens });
        const probe = conversation.accept(turn, outcome, model);
        if (measured) {
          recorder.record(outcome);
          if (probe) recorder.recordProbe(probe);
          context.onRequestDone();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: context.concurrency }, (_, index) => loop(index)));
}
