/**
 * The authorizer's own tiny logger: one JSON line per event on stdout (CloudWatch).
 * Callers pass only reasons, codes and ids; a token, or anything derived from one, is never a field.
 */

export type AuthLogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface AuthLog {
  info(event: string, fields?: AuthLogFields): void;
  error(event: string, fields?: AuthLogFields): void;
}

export function createAuthLog(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): AuthLog {
  const emit = (level: 'info' | 'error', event: string, fields: AuthLogFields = {}) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, component: 'authorizer', event, ...fields }));
  return {
    info: (event, fields) => emit('info', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

/** Name and message of an error, cut short; never its cause chain, request or payload. */
export function errorSummary(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
