import type { Conversation, ProbeResult } from '../conversation';
import type { LlmTarget, RequestOutcome } from '../targets/llm-target';

/** Sends a conversation's next turn and scores it; a finished conversation releases its session. */
export async function sendTurn(target: LlmTarget, conversation: Conversation, model: string, maxTokens: number): Promise<{ outcome: RequestOutcome; probe?: ProbeResult }> {
  const turn = conversation.next();
  const outcome = await target.send({ conversationId: conversation.id, model, messages: turn.messages, maxTokens });
  const probe = conversation.accept(turn, outcome, model);
  if (conversation.finished) await target.endConversation?.(conversation.id);
  return { outcome, ...(probe ? { probe } : {}) };
}
