/**
 * Structured logging: one JSON object per line. Message bodies and credentials are never written:
 * fields with those names are replaced by "[redacted]", and only scalar values are kept.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Field names that may carry a message body or a credential. Compared case-insensitively. */
const REDACTED_FIELDS = new Set(['body', 'text', 'data', 'token', 'authorization', 'password', 'secret', 'cookie', 'frame']);
const MAX_STRING_CHARS = 512;

function scalar(value: unknown): string | number | boolean | null | undefined {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > MAX_STRING_CHARS ? `${value.slice(0, MAX_STRING_CHARS)}…` : value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return `${value.name}: ${value.message}`.slice(0, MAX_STRING_CHARS);
  return undefined;
}

function sanitize(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (REDACTED_FIELDS.has(key.toLowerCase())) {
      out[key] = '[redacted]';
      continue;
    }
    const v = scalar(value);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Describes an error by name, status and message only (never the request or response it carries). */
export function describeError(err: unknown): LogFields {
  if (typeof err !== 'object' || err === null) return { error: String(err).slice(0, MAX_STRING_CHARS) };
  const e = err as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return {
    error: typeof e.name === 'string' ? e.name : 'Error',
    errorMessage: typeof e.message === 'string' ? e.message : undefined,
    httpStatus: typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined,
  };
}

export function createLogger(
  base: LogFields = {},
  sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  clock: () => number = Date.now,
): Logger {
  const write = (level: LogLevel, event: string, fields: LogFields = {}) => {
    sink(JSON.stringify({ time: new Date(clock()).toISOString(), level, event, ...sanitize(base), ...sanitize(fields) }));
  };
  return {
    debug: (event, fields) => write('debug', event, fields),
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
    child: (fields) => createLogger({ ...base, ...fields }, sink, clock),
  };
}
