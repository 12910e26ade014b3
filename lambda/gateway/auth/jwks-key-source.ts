/**
 * Keys of an OIDC issuer from its JWKS URL (JWKS_URL), through jose `createRemoteJWKSet`, which caches
 * the key set and refetches it (at most once per cooldown) when a token names an unknown `kid`.
 * Create it once per module so the cache survives across warm invocations.
 */
import { createRemoteJWKSet, type JWSAlgorithm, type JWTVerifyGetKey } from 'jose';
import { KeySourceError, type SigningKeySource } from './key-source';

/** Asymmetric algorithms only: an HS* token can never be checked against a public key (algorithm confusion). */
export const JWKS_ALGORITHMS: JWSAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
/** A JWKS fetch slower than this fails the connect with an internal error. */
export const JWKS_TIMEOUT_MS = 3000;

/** jose errors of the key lookup that are the token's fault (it names a key the issuer does not have). */
const TOKEN_FAULT_CODES = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS']);

export function jwksKeySource(url: URL): SigningKeySource {
  const remote = createRemoteJWKSet(url, { timeoutDuration: JWKS_TIMEOUT_MS });
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (TOKEN_FAULT_CODES.has((err as { code?: string })?.code ?? '')) throw err;
      throw new KeySourceError(`JWKS_URL key set unavailable: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  };
  return { algorithms: JWKS_ALGORITHMS, resolve: async () => getKey };
}
