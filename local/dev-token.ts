/**
 * Development tokens for running the example app on this machine.
 *
 * The emulator answers Secrets Manager `GetSecretValue` with `LOCAL_SECRET_DEFAULT` (or `--local-secret`),
 * and `npm run token -- <user>` signs with the same key, so a token from here passes the example's
 * HS256 authorizer. Never use these values outside local development.
 * Imports neither `lib/` nor `lambda/` (CONTRIBUTING.md, layers).
 *
 * Signed with `node:crypto` HMAC-SHA256 rather than jose: jose 6 is ESM-only, and this module must load
 * from CommonJS everywhere (the emulator, `ts-node` scripts, jest on Node 20). The authorizer's tests
 * verify these tokens with jose, so the encoding is checked against the real verifier.
 */
import { createHmac } from 'node:crypto';

/** HS256 key the emulator hands out for every Secrets Manager secret of the template. */
export const LOCAL_SECRET_DEFAULT = 'wsgate-local-development-secret';
/** `iss` the example chat app's authorizer requires. */
export const EXAMPLE_ISSUER = 'wsgate-example';
/** `aud` the example chat app's authorizer requires. */
export const EXAMPLE_AUDIENCE = 'wsgate-chat';
/** Default lifetime of a development token: one hour. */
export const DEV_TOKEN_TTL_SECONDS_DEFAULT = 3600;

export interface DevTokenOptions {
  /** Becomes the token's `sub` (the user name the chat shows). */
  readonly user: string;
  /** @default LOCAL_SECRET_DEFAULT */
  readonly secret?: string;
  /** @default EXAMPLE_ISSUER */
  readonly issuer?: string;
  /** @default EXAMPLE_AUDIENCE */
  readonly audience?: string;
  /** Seconds from now until `exp`. @default 3600 (one hour) */
  readonly ttlSeconds?: number;
}

/** Signs an HS256 JWT with `sub` = user, `iss`, `aud`, `iat` and `exp`. Rejects on unusable options. */
export async function signDevToken(options: DevTokenOptions): Promise<string> {
  const { user } = options;
  const secret = options.secret ?? LOCAL_SECRET_DEFAULT;
  const issuer = options.issuer ?? EXAMPLE_ISSUER;
  const audience = options.audience ?? EXAMPLE_AUDIENCE;
  const ttlSeconds = options.ttlSeconds ?? DEV_TOKEN_TTL_SECONDS_DEFAULT;
  if (typeof user !== 'string' || user.trim() === '') {
    throw new Error('signDevToken: user must be a non-empty string (it becomes the token sub)');
  }
  if (typeof secret !== 'string' || secret === '') {
    throw new Error('signDevToken: secret must be a non-empty string');
  }
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error(`signDevToken: ttlSeconds must be a positive whole number of seconds, got ${ttlSeconds}`);
  }
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'HS256', typ: 'JWT' };
  const claims = { sub: user, iss: issuer, aud: audience, iat: now, exp: now + ttlSeconds };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
