/**
 * Loads the built handler bundles into this process with a given environment. The bundles read their
 * configuration at load and the AWS SDK reads endpoints lazily, so the environment stays set until `restore()`.
 * The handlers' JSON log lines (stdout) are dropped until then too.
 */
import * as path from 'path';
import { HANDLER_ASSETS } from '../lib/paths';

export type Handler = (event: unknown, context?: unknown) => Promise<{ statusCode: number; body?: string }>;

export function loadHandlers(names: readonly string[], env: Record<string, string>): { handlers: Record<string, Handler>; restore: () => void } {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const restore = () => {
    process.stdout.write = write;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  const handlers: Record<string, Handler> = {};
  for (const name of names) {
    const file = path.join(HANDLER_ASSETS, name, 'index.js');
    delete require.cache[require.resolve(file)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handlers[name] = (require(file) as { handler: Handler }).handler;
  }
  return { handlers, restore };
}
