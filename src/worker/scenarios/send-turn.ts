import type { Conversation, ProbeResult } from '../conversation';
import type { RequestOutcome } from '../targets/llm-target';
import type { ScenarioContext } from './scenario-context';

/**
 * Sends a conversation's next turn, judges its outcome against the phase's abort conditions and
 * scores it; a finished conversation releases its session. Null when the harness stopped the phase
 * while the request was in flight: it was abandoned, and counts neither for nor against the target.
 */
export async function sendTurn(
  context: Pick<ScenarioContext, 'target' | 'stop' | 'task'>,
  conversation: Conversation,
  model: string,
): Promise<{ outcome: RequestOutcome; probe?: ProbeResult } | null> {
  const { target, stop } = context;
  const turn = conversation.next();
  const maxTokens = context.task.phase.conversation.maxTokens;
  const outcome = await target.send({
    conversationId: conversation.id,
    model,
    messages: turn.messages,
    messagesJson: turn.messagesJson,
    maxTokens,
  });
  if (!outcome.ok && outcome.errorClass === 'aborted') return null;
  stop.observe(outcome);
  const probe = conversation.accept(turn, outcome, model);
  if (conversation.finished) await target.endConversation?.(conversation.id);
  return { outcome, ...(probe ? { probe } : {}) };
}
