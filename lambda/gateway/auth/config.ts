/**
 * The authorizer's environment, read and validated in one place; the variable names and the token-source default
 * come from contract/gateway-contract.ts, which the constructs read too.
 * Every error names the variable and what a valid value looks like.
 */
import { DEFAULT_TOKEN_SOURCE, ENV, tokenSourceValue } from '../../../contract/gateway-contract';

/** Where the token is read from. Querystring names are case-sensitive, header names are not. */
export interface TokenSource {
  readonly location: 'querystring' | 'header';
  readonly name: string;
}

/** Which keys verify the signature: an OIDC issuer's JWKS, or an HS256 key held in Secrets Manager. */
export type KeySourceConfig =
  | { readonly kind: 'jwks'; readonly url: URL }
  | { readonly kind: 'secret'; readonly secretArn: string };

export interface AuthorizerConfig {
  readonly tokenSource: TokenSource;
  /** JWT_ISSUER: the `iss` every token must carry. */
  readonly issuer: string;
  /** JWT_AUDIENCE: a value the token's `aud` must contain. */
  readonly audience: string;
  readonly keySource: KeySourceConfig;
}

export class AuthorizerConfigError extends Error {
  constructor(message: string) {
    super(`authorizer configuration: ${message}`);
    this.name = 'AuthorizerConfigError';
  }
}

/** `TOKEN_SOURCE` when unset: browsers cannot set headers on a WebSocket, so the token travels in the URL. */
export const TOKEN_SOURCE_DEFAULT = tokenSourceValue(DEFAULT_TOKEN_SOURCE.kind, DEFAULT_TOKEN_SOURCE.name);

// The same characters lib/token-source.ts accepts (an HTTP token: no spaces, separators or control characters).
const SOURCE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function parseTokenSource(value: string): TokenSource {
  const match = /^(querystring|header):(.*)$/.exec(value);
  if (!match || !SOURCE_NAME.test(match[2])) {
    throw new AuthorizerConfigError(
      `${ENV.tokenSource} must be "querystring:<name>" or "header:<name>" (a name without spaces, separators or control characters), got ${JSON.stringify(value)}`,
    );
  }
  return { location: match[1] as TokenSource['location'], name: match[2] };
}

function required(env: NodeJS.ProcessEnv, name: string, meaning: string): string {
  const value = env[name]?.trim();
  if (!value) throw new AuthorizerConfigError(`${name} is required (${meaning})`);
  return value;
}

function parseJwksUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuthorizerConfigError(`${ENV.jwksUrl} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  // Keys fetched over plain HTTP could be swapped in transit; only a loopback server (tests, emulator) may use it.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new AuthorizerConfigError(`${ENV.jwksUrl} must use https:// (http:// only for 127.0.0.1/localhost), got ${url.protocol}//${url.host}`);
  }
  return url;
}

export function readAuthorizerConfig(env: NodeJS.ProcessEnv = process.env): AuthorizerConfig {
  const tokenSource = parseTokenSource(env[ENV.tokenSource]?.trim() || TOKEN_SOURCE_DEFAULT);
  const issuer = required(env, ENV.jwtIssuer, 'the iss claim every token must carry');
  const audience = required(env, ENV.jwtAudience, 'the aud claim every token must carry');
  const jwksUrl = env[ENV.jwksUrl]?.trim();
  const secretArn = env[ENV.jwtSecretArn]?.trim();
  const oneOf = `${ENV.jwksUrl} (OIDC issuer keys) and ${ENV.jwtSecretArn} (HS256 key)`;
  if (jwksUrl && secretArn) {
    throw new AuthorizerConfigError(`set exactly one of ${oneOf}, not both`);
  }
  if (jwksUrl) return { tokenSource, issuer, audience, keySource: { kind: 'jwks', url: parseJwksUrl(jwksUrl) } };
  if (secretArn) return { tokenSource, issuer, audience, keySource: { kind: 'secret', secretArn } };
  throw new AuthorizerConfigError(`set exactly one of ${oneOf}; neither is set`);
}
