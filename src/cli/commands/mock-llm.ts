import { Command, Option } from 'commander';
import { loadPlan } from '../../coordinator/load-plan';
import { DEFAULT_MOCK_CONFIG } from '../../mock-llm/default-config';
import { startMockLlm } from '../../mock-llm/start-mock-llm';
import { DEFAULT_HOST, DEFAULT_MOCK_PORT } from '../../shared/defaults';
import { EXIT, UsageError } from '../../shared/errors';
import type { MockServerConfig } from '../../shared/mock-schema';
import { mockOf } from '../../shared/target-schema';
import { port, untilSignal, type SetExitCode } from '../options';

async function mockConfigOf(planPath: string | undefined): Promise<MockServerConfig> {
  if (!planPath) return DEFAULT_MOCK_CONFIG;
  const config = mockOf((await loadPlan(planPath)).plan.target);
  if (!config)
    throw new UsageError(`${planPath} has no target.mock section to serve`, 'add one, or leave out --plan to serve the default models');
  return config;
}

export function mockLlmCommand(setExitCode: SetExitCode): Command {
  return new Command('mock-llm')
    .description('serve the built-in mock LLM (OpenAI-compatible /v1 and Ollama-style /api) until interrupted')
    .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').argParser(port).default(DEFAULT_MOCK_PORT))
    .option('--host <host>', 'address to bind', DEFAULT_HOST)
    .option('--plan <file>', "serve the models of this plan's target.mock section")
    .action(async (options: { port: number; host: string; plan?: string }) => {
      const config = await mockConfigOf(options.plan);
      const server = await startMockLlm(config, { port: options.port, host: options.host });
      console.log(
        `mock LLM listening on ${server.url} (OpenAI base URL ${server.url}/v1); ` +
          `models: ${config.models.map((model) => model.name).join(', ')}`,
      );
      await untilSignal(() => server.close());
      setExitCode(EXIT.passed);
    });
}
