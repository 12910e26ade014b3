/**
 * Finds the token in a `$connect` REQUEST authorizer event (spec §2.2): a querystring parameter
 * (case-sensitive name) or a header (case-insensitive name, an optional `Bearer ` prefix removed).
 * Returns undefined when it is absent or blank; never throws, whatever the event looks like.
 */
import type { TokenSource } from './config';

/** The parts of the REQUEST authorizer event the authorizer reads. Anything may be missing in bad input. */
export interface ConnectAuthorizerEvent {
  readonly type?: string;
  readonly methodArn?: string;
  readonly headers?: Record<string, string | undefined> | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  readonly requestContext?: { readonly connectionId?: string; readonly requestId?: string } | null;
}

const BEARER = /^bearer\s+/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function headerValue(headers: Record<string, unknown>, name: string): unknown {
  const wanted = name.toLowerCase();
  const key = Object.keys(headers).find((k) => k.toLowerCase() === wanted);
  return key === undefined ? undefined : headers[key];
}

export function extractToken(event: unknown, source: TokenSource): string | undefined {
  if (!isRecord(event)) return undefined;
  let raw: unknown;
  if (source.location === 'querystring') {
    const query = event.queryStringParameters;
    raw = isRecord(query) ? query[source.name] : undefined;
  } else {
    const headers = event.headers;
    raw = isRecord(headers) ? headerValue(headers, source.name) : undefined;
    if (typeof raw === 'string') raw = raw.trim().replace(BEARER, '');
  }
  if (typeof raw !== 'string') return undefined;
  const token = raw.trim();
  return token === '' ? undefined : token;
}
