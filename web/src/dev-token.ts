/**
 * Gets a development token from the emulator that served the page (`GET /_wsgate/token?user=NAME`).
 * Only the local emulator has this endpoint; against a deployed stack the user pastes a real token.
 */

export const DEV_TOKEN_PATH = '/_wsgate/token';

/** Resolves to the token for `user`; rejects with a message the page can show. */
export async function fetchDevToken(pageOrigin: string, user: string): Promise<string> {
  const url = new URL(DEV_TOKEN_PATH, pageOrigin);
  url.searchParams.set('user', user);
  const response = await fetch(url, { headers: { accept: 'application/json, text/plain' } });
  const body = (await response.text()).trim();
  if (!response.ok) {
    const reason = errorMessageFromBody(body);
    throw new Error(`The token endpoint answered ${response.status}${reason ? `: ${reason}` : ''}`);
  }
  const token = tokenFromBody(body);
  if (!token) throw new Error('The token endpoint answered without a token');
  return token;
}

/** Accepts a bare token, a JSON string, or a JSON object with a `token` field. */
function tokenFromBody(body: string): string | undefined {
  if (!body.startsWith('{') && !body.startsWith('"')) return body || undefined;
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && value !== null && typeof (value as { token?: unknown }).token === 'string') {
      return (value as { token: string }).token;
    }
  } catch {
    // not JSON after all
  }
  return undefined;
}

/** The `message` of a JSON error body (`{"message": "..."}`), else the body itself. */
function errorMessageFromBody(body: string): string {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
      return (value as { message: string }).message;
    }
  } catch {
    // plain text
  }
  return body;
}
