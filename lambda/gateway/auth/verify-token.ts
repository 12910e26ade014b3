/**
 * Verifies a compact JWT with jose: signature with pinned algorithms, `exp` (required), `nbf`, `iss`, `aud`,
 * a small clock tolerance, and a non-empty `sub`. Oversized or obviously malformed tokens are refused
 * before any parsing or key lookup. Every fault of the token becomes `TokenRejected`; a `KeySourceError`
 * (keys unavailable) passes through untouched.
 */
import { jwtVerify, type JWTPayload } from 'jose';
import { KeySourceError, type SigningKeySource } from './key-source';

/** Longest token accepted (characters). Real OIDC tokens are 1-2 KB; this also bounds the authorizer context. */
export const MAX_TOKEN_LENGTH = 8192;
/** Longest `sub` accepted: it becomes the user id stored with the connection and shown to other users. */
export const MAX_SUBJECT_LENGTH = 256;
/** Leeway for `exp`, `nbf` and `iat` against clock skew between the issuer and Lambda. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Three base64url segments; the signature may be empty only so that `alg: none` gets its own reason below. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface Expectations {
  readonly issuer: string;
  readonly audience: string;
}

export interface VerifiedIdentity {
  readonly subject: string;
  /** `exp` of the token, epoch seconds. */
  readonly expiresAt: number;
  readonly claims: JWTPayload;
}

/** The token is not acceptable. `reason` is safe to log: it never contains the token or its claims. */
export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(`token rejected: ${reason}`);
    this.name = 'TokenRejected';
  }
}

export async function verifyToken(token: string, keys: SigningKeySource, expect: Expectations): Promise<VerifiedIdentity> {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejected(`longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!COMPACT_JWS.test(token)) throw new TokenRejected('not a compact JWS (header.payload.signature)');
  const key = await keys.resolve();
  const options = {
    algorithms: keys.algorithms,
    issuer: expect.issuer,
    audience: expect.audience,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['exp', 'sub'],
  };
  let claims: JWTPayload;
  try {
    ({ payload: claims } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
  } catch (err) {
    if (err instanceof KeySourceError) throw err;
    const code = (err as { code?: unknown })?.code;
    throw new TokenRejected(typeof code === 'string' ? `${code}: ${(err as Error).message}` : 'unverifiable');
  }
  const subject = claims.sub;
  if (typeof subject !== 'string' || subject.trim() === '') throw new TokenRejected('sub claim is missing or empty');
  if (subject.length > MAX_SUBJECT_LENGTH) throw new TokenRejected(`sub claim longer than ${MAX_SUBJECT_LENGTH} characters`);
  return { subject, expiresAt: claims.exp as number, claims };
}
