/**
 * The contract of a module target: a team's own integration code, exporting `createSession`. A
 * session is one conversation: the harness hands it only each new user message and the model to
 * use, so the integration's own context manager keeps (or loses) the history.
 *
 *   // my-integration.js
 *   exports.createSession = async ({ model, systemPrompt }) => ({
 *     async send({ model, text }) { return { content: '...', outputTokens: 12 }; },  // or a string
 *     async close() {},
 *   });
 */
import { pathToFileURL } from 'node:url';
import { ModuleInvalidError } from './errors';

export interface GrymSession {
  send(message: { model: string; text: string }): Promise<string | { content: string; inputTokens?: number; outputTokens?: number }>;
  close?(): Promise<void> | void;
}

export interface GrymModule {
  createSession(options: { model: string; systemPrompt: string }): Promise<GrymSession> | GrymSession;
}

/**
 * Imports a CommonJS or ES module from its absolute path and checks, once, that it can serve:
 * a module without `createSession` is refused here with the fix, not failed request by request.
 */
export async function loadGrymModule(path: string): Promise<GrymModule> {
  let imported: Partial<GrymModule> & { default?: Partial<GrymModule> };
  try {
    imported = (await import(pathToFileURL(path).href)) as typeof imported;
  } catch (error) {
    throw new ModuleInvalidError(path, `cannot be loaded (${(error as Error).message})`);
  }
  const api = typeof imported.createSession === 'function' ? imported : imported.default;
  if (typeof api?.createSession !== 'function') throw new ModuleInvalidError(path, 'does not export createSession');
  return api as GrymModule;
}
