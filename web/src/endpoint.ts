/**
 * Where the page connects. Served by the emulator, the default is the page's own host and the stage
 * (`ws://127.0.0.1:PORT/prod`); against a deployed stack the user types the stage's wss URL.
 * Browsers cannot set headers on a WebSocket, so the token travels in the `token` query string,
 * which is the example authorizer's identity source.
 */

/** Stage used when the page's address names none (`?stage=` or `?url=`). */
export const DEFAULT_STAGE = 'prod';

/**
 * The WebSocket URL to offer: `?url=` of the page if given, else the page's host with `?stage=`
 * (default `prod`); empty when the page is not served over HTTP(S) (opened from a file).
 */
export function defaultSocketUrl(page: URL): string {
  const explicit = page.searchParams.get('url');
  if (explicit) return explicit;
  const scheme = page.protocol === 'https:' ? 'wss:' : page.protocol === 'http:' ? 'ws:' : undefined;
  if (scheme === undefined) return '';
  const stage = page.searchParams.get('stage') || DEFAULT_STAGE;
  return `${scheme}//${page.host}/${encodeURIComponent(stage)}`;
}

/** `socketUrl` with `token` set as its `token` query parameter (replacing any already there). */
export function socketUrlWithToken(socketUrl: string, token: string): string {
  const url = new URL(socketUrl);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new Error(`The WebSocket URL must start with ws:// or wss://, got ${url.protocol}//`);
  }
  url.searchParams.set('token', token);
  return url.toString();
}
