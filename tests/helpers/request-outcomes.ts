/** Request outcomes as a target returns them, for tests of what judges them (abort conditions). */
import type { RequestOutcome } from '../../src/worker/targets/llm-target';

/** A request that succeeded: one token in, one out, counted by the server. */
export const OK_OUTCOME: RequestOutcome = {
  ok: true,
  startMs: 0,
  endMs: 1,
  firstContentMs: null,
  contentChunkTimesMs: [],
  content: 'fine',
  outputTokens: 1,
  inputTokens: 1,
  usageFromServer: true,
};
