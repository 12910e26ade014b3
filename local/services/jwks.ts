/**
 * A local identity provider for authorizers that verify tokens against an issuer's JWKS (`JWKS_URL`): the emulator
 * answers that URL itself (function processes' HTTPS requests to the issuer's host are redirected to the emulator,
 * like execute-api) with the public half of a local RSA (RS256) and EC P-256 (ES256) key pair, and signs development
 * tokens with the private half. Cognito user-pool issuers (`https://cognito-idp.<region>.amazonaws.com/<poolId>`)
 * work the same way; their tokens also carry `token_use: "id"` and `cognito:username`.
 *
 * The key pairs are kept in a file (default `.wsgate/local-issuer-keys.json` under the working directory) so
 * `npm run token -- --alg RS256` in another process signs with the keys the running emulator publishes.
 * Never use these keys outside local development. Signed with `node:crypto` (jose 6 is ESM-only).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, type JsonWebKey, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';

/** Where the key pairs are kept, relative to the working directory. */
export const LOCAL_ISSUER_KEY_FILE_DEFAULT = path.join('.wsgate', 'local-issuer-keys.json');
/** Algorithms the local issuer signs with. */
export const LOCAL_ISSUER_ALGORITHMS = ['RS256', 'ES256'] as const;
export type LocalIssuerAlgorithm = (typeof LOCAL_ISSUER_ALGORITHMS)[number];

export interface LocalIssuerKeys {
  /** PKCS#8 PEM private keys by algorithm. */
  readonly privateKeys: Readonly<Record<LocalIssuerAlgorithm, string>>;
  /** `kid` of each key (derived from its public key, so a new key pair gets a new kid). */
  readonly kids: Readonly<Record<LocalIssuerAlgorithm, string>>;
}

function kidOf(publicKey: KeyObject, alg: string): string {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return `wsgate-local-${alg.toLowerCase()}-${(jwk.n ?? jwk.x ?? '').slice(0, 12)}`;
}

/** New RSA 2048 and P-256 key pairs (not stored). */
export function generateIssuerKeys(): LocalIssuerKeys {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }).toString();
  return {
    privateKeys: { RS256: pem(rsa.privateKey), ES256: pem(ec.privateKey) },
    kids: { RS256: kidOf(rsa.publicKey, 'RS256'), ES256: kidOf(ec.publicKey, 'ES256') },
  };
}

/** The key pairs in `file`, created (and written, readable by the owner only) when the file does not exist. */
export function loadOrCreateIssuerKeys(file: string = LOCAL_ISSUER_KEY_FILE_DEFAULT): LocalIssuerKeys {
  const full = path.resolve(file);
  if (fs.existsSync(full)) {
    let parsed: LocalIssuerKeys;
    try {
      parsed = JSON.parse(fs.readFileSync(full, 'utf8'));
      for (const alg of LOCAL_ISSUER_ALGORITHMS) createPrivateKey(parsed.privateKeys[alg]);
    } catch (err) {
      throw new Error(`The local issuer key file ${full} is unreadable (${(err as Error).message}); delete it and a new key pair is made`);
    }
    return parsed;
  }
  const keys = generateIssuerKeys();
  fs.mkdirSync(path.dirname(full), { recursive: true });
  const temp = `${full}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  fs.renameSync(temp, full);
  return keys;
}

/** The JWKS document (public keys only) the emulator answers at every redirected `JWKS_URL`. */
export function jwksDocument(keys: LocalIssuerKeys): { keys: JsonWebKey[] } {
  return {
    keys: LOCAL_ISSUER_ALGORITHMS.map((alg) => ({
      ...(createPublicKey(createPrivateKey(keys.privateKeys[alg])).export({ format: 'jwk' }) as JsonWebKey),
      kid: keys.kids[alg],
      alg,
      use: 'sig',
    })),
  };
}

export interface IssuerTokenOptions {
  readonly keys: LocalIssuerKeys;
  /** Becomes `sub` (and `cognito:username` for a Cognito issuer). */
  readonly user: string;
  readonly issuer: string;
  readonly audience: string;
  /** @default 'RS256' */
  readonly algorithm?: LocalIssuerAlgorithm;
  /** Seconds from now until `exp`. @default 3600 */
  readonly ttlSeconds?: number;
}

const COGNITO_ISSUER = /^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/[^/]+$/;

/** Signs a JWT with the local issuer's key; the header names the key's `kid`. */
export function signIssuerToken(options: IssuerTokenOptions): string {
  const algorithm = options.algorithm ?? 'RS256';
  if (!LOCAL_ISSUER_ALGORITHMS.includes(algorithm)) {
    throw new Error(`signIssuerToken: algorithm must be one of ${LOCAL_ISSUER_ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}`);
  }
  if (typeof options.user !== 'string' || options.user.trim() === '') throw new Error('signIssuerToken: user must be a non-empty string (it becomes the token sub)');
  const ttlSeconds = options.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error(`signIssuerToken: ttlSeconds must be a positive whole number of seconds, got ${ttlSeconds}`);
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sub: options.user, iss: options.issuer, aud: options.audience, iat: now, exp: now + ttlSeconds };
  if (COGNITO_ISSUER.test(options.issuer)) Object.assign(claims, { token_use: 'id', 'cognito:username': options.user });
  const header = { alg: algorithm, typ: 'JWT', kid: options.keys.kids[algorithm] };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const key = createPrivateKey(options.keys.privateKeys[algorithm]);
  const signature = algorithm === 'RS256'
    ? cryptoSign('sha256', Buffer.from(input), key)
    : cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/**
 * The JWKS URLs the emulator can answer: https URLs on a host other than 127.0.0.1/localhost (those are real
 * local servers the app runs itself).
 */
export function redirectableJwksUrls(urls: Iterable<string>): URL[] {
  const out = new Map<string, URL>();
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (url.protocol !== 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) continue;
    out.set(url.href, url);
  }
  return [...out.values()];
}

/** HTTP handler answering `GET` of each JWKS URL (matched by Host header and path) with the local public keys. */
export function jwksEndpoint(urls: readonly URL[], keys: LocalIssuerKeys): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  const body = JSON.stringify(jwksDocument(keys));
  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (!urls.some((u) => u.hostname.toLowerCase() === host && u.pathname === url.pathname)) return false;
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'max-age=300' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
