/**
 * Identifiers in API Gateway's shape (spec §1): 16 characters of URL-safe base64 ending with `=`,
 * e.g. `BFaT_fALIAMCKug=`. Used for connectionId, requestId/extendedRequestId and messageId, so that a
 * handler that forgets to URL-encode an id in an `@connections` path fails here as it would on AWS.
 */
import { randomBytes } from 'node:crypto';

/** A fresh id: 11 random bytes → 15 base64 characters + one `=` pad, with `+`/`/` mapped to `-`/`_`. */
export function newGatewayId(): string {
  return randomBytes(11).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** True when `value` has the 16-character API Gateway id shape. */
export function isGatewayId(value: string): boolean {
  return /^[A-Za-z0-9_-]{15}=$/.test(value);
}
