/**
 * The 400 a server answers when a prompt does not fit the context window, in the body shapes real
 * servers use (checked against llama.cpp de3ff81; OpenAI's is also what vLLM sends).
 */
import type { MockModelConfig } from '../shared/mock-schema';
import { HttpError } from './http-error';

/** The 400 for a prompt of `promptTokens` against a window of `windowTokens`, in `style`'s body. */
export function contextOverflowError(style: MockModelConfig['contextOverflowError'], promptTokens: number, windowTokens: number) {
  if (style === 'llama.cpp') {
    const message = `request (${promptTokens} tokens) exceeds the available context size (${windowTokens} tokens), try increasing it`;
    const type = 'exceed_context_size_error';
    return new HttpError(400, message, type, {
      error: { code: 400, message, type, n_prompt_tokens: promptTokens, n_ctx: windowTokens },
    });
  }
  const message =
    `This model's maximum context length is ${windowTokens} tokens. However, your messages resulted in ${promptTokens} tokens. ` +
    'Please reduce the length of the messages.';
  const type = 'invalid_request_error';
  return new HttpError(400, message, type, { error: { message, type, param: 'messages', code: 'context_length_exceeded' } });
}
