/**
 * The `model-switch` scenario: one conversation carried across models, `requestsPerModel`
 * sequential requests to each model in turn, `cycles` times. The first request of every segment
 * after the first that reaches the server pays the switch, whatever failed before it; one that
 * never reached it (refused, or reset before any response byte) is a plain request and the switch
 * stays pending. The rest are warm. Facts planted on one model and probed on
 * another measure whether context survives the switch. Target memory is read at the end of each
 * cycle, when the same model is loaded, so growth between cycles is a leak and not a model size.
 * A stopped shard ends it before the next request; the one in flight is abandoned.
 */
import { deriveSeed } from '../../shared/derive-seed';
import { Conversation } from '../conversation';
import { sendTurn } from './send-turn';
import type { ScenarioContext } from './scenario-context';

export async function runModelSwitch(context: ScenarioContext): Promise<void> {
  const { task, recorder, startAtMs, stop } = context;
  const phase = task.phase;
  let conversationNumber = 0;
  let conversation = new Conversation(phase, deriveSeed(task.seed, conversationNumber), task.runId);
  let segment = 0;
  for (let cycle = 0; cycle < phase.switch.cycles; cycle++) {
    for (const model of phase.models) {
      let loadPending = true;
      for (let index = 0; index < phase.switch.requestsPerModel; index++) {
        if (stop.stopped) return;
        if (conversation.finished) conversation = new Conversation(phase, deriveSeed(task.seed, ++conversationNumber), task.runId);
        recorder.started();
        const sent = await sendTurn(context, conversation, model);
        if (sent === null) {
          recorder.abandoned();
          return;
        }
        const reached = sent.outcome.ok || sent.outcome.connectionFailure !== true;
        const role = !loadPending ? 'warm' : reached && segment > 0 ? 'switch' : 'plain';
        if (reached) loadPending = false;
        recorder.record(sent.outcome, { model, conversation: conversation.id, role });
        recorder.recordSwitchRequest(model, role, sent.outcome);
        if (sent.probe) recorder.recordProbe(sent.probe);
        context.onRequestDone();
      }
      segment++;
    }
    const bytes = await context.readTargetMemory?.().catch((error: unknown) => {
      recorder.targetReadFailed(error instanceof Error ? error.message : String(error));
      return null;
    });
    if (bytes !== undefined && bytes !== null) context.targetPerCycle.push({ tMs: Date.now() - startAtMs, bytes });
  }
}
