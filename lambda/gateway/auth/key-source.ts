/**
 * Where signature keys come from. A key source failing (Secrets Manager or the JWKS endpoint unreachable,
 * misconfigured, or answering garbage) is an internal fault, not the caller's: it is reported as
 * `KeySourceError` so the authorizer lets it surface (→ 500, spec §2.2) instead of answering 401.
 */
import type { JWSAlgorithm, JWTVerifyGetKey } from 'jose';

export interface SigningKeySource {
  /** The only `alg` values accepted with these keys (pinned: `none` is never among them). */
  readonly algorithms: JWSAlgorithm[];
  /** A key for `jwtVerify`: the HS256 secret bytes, or a JWKS lookup by the token's `kid`/`alg`. */
  resolve(): Promise<Uint8Array | JWTVerifyGetKey>;
}

export class KeySourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySourceError';
  }
}
