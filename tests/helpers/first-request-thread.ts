/**
 * FOR TESTS ONLY: run in a fresh worker thread (with tsx). Sends two requests, one after the other,
 * to `workerData.baseUrl` through the harness's OpenAI target, after touching the request path when
 * `workerData.touch` is set, and posts each one's e2e (ms) as the harness measures and reports it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createOpenAiTarget } from '../../src/worker/targets/openai-target';
import { touchRequestPath } from '../../src/worker/warm-harness';

const { baseUrl, touch } = workerData as { baseUrl: string; touch: boolean };

async function main(): Promise<number[]> {
  if (touch) await touchRequestPath();
  const target = createOpenAiTarget(
    {
      kind: 'openai',
      endpoint: 'chat',
      baseUrl,
      stream: false,
      requestTimeoutMs: 10_000,
      maxResponseBytes: 1 << 20,
      memory: { source: 'none' },
    },
    1,
  );
  const took: number[] = [];
  try {
    for (let index = 0; index < 2; index++) {
      const messages = [{ role: 'user' as const, content: `request ${index}` }];
      const outcome = await target.send({ model: 'm', messages, messagesJson: JSON.stringify(messages), maxTokens: 4 });
      if (!outcome.ok) throw new Error(`request ${index} failed: ${JSON.stringify(outcome)}`);
      took.push(outcome.endMs - outcome.startMs);
    }
  } finally {
    await target.close();
  }
  return took;
}

void main().then(
  (took) => parentPort?.postMessage({ took }),
  (error: unknown) => parentPort?.postMessage({ error: String(error) }),
);
