/** The page's view of its WebSocket, and how it is worded for the user. */

export type ConnectionState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'connecting'; readonly url: string }
  | { readonly phase: 'open'; readonly url: string }
  | { readonly phase: 'closed'; readonly code: number; readonly reason: string; readonly wasClean: boolean };

/** One line for the status bar, e.g. `closed (code 1006, no reason given)`. */
export function describeConnectionState(state: ConnectionState): string {
  switch (state.phase) {
    case 'idle':
      return 'not connected';
    case 'connecting':
      return `connecting to ${state.url}`;
    case 'open':
      return `open (${state.url})`;
    case 'closed':
      return `closed (code ${state.code}, ${state.reason ? `reason "${state.reason}"` : 'no reason given'})`;
  }
}

/** The URL without its query string, so the token never appears on screen. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
