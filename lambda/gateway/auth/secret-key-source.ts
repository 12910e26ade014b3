/**
 * HS256 key = the SecretString of a Secrets Manager secret (JWT_SECRET_ARN), cached for a short time so
 * warm invocations do not call Secrets Manager on every connect, while a rotated secret is picked up soon.
 * Concurrent cold lookups share one request; a failed lookup is not cached.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { JWSAlgorithm } from 'jose';
import { KeySourceError, type SigningKeySource } from './key-source';

/** How long a fetched secret is reused. */
export const SECRET_CACHE_TTL_MS = 5 * 60 * 1000;
/** HS256 only: a token naming any other `alg` (including `none` or RS256) is rejected. */
export const SECRET_ALGORITHMS: JWSAlgorithm[] = ['HS256'];

export interface SecretKeySourceOptions {
  readonly secretArn: string;
  readonly client: Pick<SecretsManagerClient, 'send'>;
  /** @default SECRET_CACHE_TTL_MS */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export function secretKeySource(options: SecretKeySourceOptions): SigningKeySource {
  const ttlMs = options.ttlMs ?? SECRET_CACHE_TTL_MS;
  const now = options.now ?? Date.now;
  let cached: { key: Uint8Array; fetchedAt: number } | undefined;
  let pending: Promise<Uint8Array> | undefined;

  async function fetchKey(): Promise<Uint8Array> {
    let secretString: string | undefined;
    try {
      const out = await options.client.send(new GetSecretValueCommand({ SecretId: options.secretArn }));
      secretString = out.SecretString;
    } catch (err) {
      throw new KeySourceError(`GetSecretValue failed for JWT_SECRET_ARN: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
    }
    if (typeof secretString !== 'string' || secretString === '') {
      throw new KeySourceError('JWT_SECRET_ARN secret has no SecretString: the HS256 key must be stored as a non-empty string');
    }
    const key = new TextEncoder().encode(secretString);
    cached = { key, fetchedAt: now() };
    return key;
  }

  return {
    algorithms: SECRET_ALGORITHMS,
    async resolve() {
      if (cached && now() - cached.fetchedAt < ttlMs) return cached.key;
      pending ??= fetchKey().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
