/**
 * `Sec-WebSocket-Protocol` negotiation for `$connect` (spec §2.3): API Gateway does not negotiate by itself,
 * the `$connect` result must echo exactly one offered value, or the handshake must be refused.
 */

export type SubprotocolDecision =
  /** The client offered nothing: connect without the header. */
  | { readonly kind: 'none' }
  | { readonly kind: 'accept'; readonly protocol: string }
  | { readonly kind: 'refuse'; readonly offered: readonly string[] };

/** Looks a header up without relying on the name's case (spec §2.3: the AWS example lower-cases the keys). */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

/** Picks the first offered subprotocol that `supported` contains (exact, case-sensitive token match). */
export function negotiateSubprotocol(headers: unknown, supported: readonly string[]): SubprotocolDecision {
  const raw = headerValue(headers, 'Sec-WebSocket-Protocol');
  if (raw === undefined) return { kind: 'none' };
  const offered = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (offered.length === 0) return { kind: 'none' };
  const protocol = offered.find((p) => supported.includes(p));
  return protocol === undefined ? { kind: 'refuse', offered } : { kind: 'accept', protocol };
}
