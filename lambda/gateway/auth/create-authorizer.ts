/**
 * The `$connect` REQUEST authorizer as a plain function of its configuration and key source (spec §2.2).
 *
 * Outcomes:
 * - a valid token → Allow on exactly `event.methodArn` (see authorizer-result.ts) → the handshake proceeds;
 * - no token, or any fault of the token (malformed, forged, wrong algorithm, expired, not yet valid,
 *   wrong issuer or audience, no `sub`, too large) → `throw new Error('Unauthorized')` → 401;
 * - the keys cannot be obtained (Secrets Manager or the JWKS endpoint failing) or the configuration is
 *   invalid → that error is thrown as is → 500. It is logged; the token never is.
 *
 * A Deny policy (403) is never returned. 403 means "authenticated but not allowed", and wsgate has no
 * per-user rules: every holder of a valid token may connect. Answering a bad token with Deny would tell
 * the client it is forbidden when it is in fact unauthenticated. Put access rules (groups, bans) in the
 * `$connect` handler, which can refuse with its own status (spec §2.1).
 */
import { allowConnect, type AuthorizerResult } from './authorizer-result';
import type { AuthorizerConfig } from './config';
import type { SigningKeySource } from './key-source';
import { createAuthLog, errorSummary, type AuthLog } from './log';
import { extractToken, type ConnectAuthorizerEvent } from './token-source';
import { TokenRejected, verifyToken } from './verify-token';

export type ConnectAuthorizer = (event: ConnectAuthorizerEvent) => Promise<AuthorizerResult>;

export interface AuthorizerDependencies {
  readonly config: AuthorizerConfig;
  readonly keys: SigningKeySource;
  /** @default JSON lines on stdout */
  readonly log?: AuthLog;
}

/** The message API Gateway maps to 401 (spec §2.2). */
export const UNAUTHORIZED = 'Unauthorized';

function unauthorized(): Error {
  return new Error(UNAUTHORIZED);
}

function requestIds(event: unknown): { connectionId?: string; requestId?: string } {
  const context = (event as ConnectAuthorizerEvent | null)?.requestContext;
  const pick = (v: unknown) => (typeof v === 'string' ? v.slice(0, 128) : undefined);
  return { connectionId: pick(context?.connectionId), requestId: pick(context?.requestId) };
}

export function createAuthorizer(deps: AuthorizerDependencies): ConnectAuthorizer {
  const { config, keys } = deps;
  const log = deps.log ?? createAuthLog();
  return async (event) => {
    const ids = requestIds(event);
    const methodArn = (event as ConnectAuthorizerEvent | null)?.methodArn;
    if (typeof methodArn !== 'string' || !methodArn.startsWith('arn:')) {
      // API Gateway always sends one; without it there is nothing to allow, so fail closed.
      log.error('authorizer.rejected', { ...ids, reason: 'event has no methodArn' });
      throw unauthorized();
    }
    const token = extractToken(event, config.tokenSource);
    if (token === undefined) {
      log.info('authorizer.rejected', { ...ids, reason: `no token in ${config.tokenSource.location} "${config.tokenSource.name}"` });
      throw unauthorized();
    }
    try {
      const identity = await verifyToken(token, keys, config);
      log.info('authorizer.allowed', { ...ids, userId: identity.subject });
      return allowConnect(methodArn, identity.subject, identity.expiresAt);
    } catch (err) {
      if (err instanceof TokenRejected) {
        log.info('authorizer.rejected', { ...ids, reason: err.reason });
        throw unauthorized();
      }
      log.error('authorizer.failed', { ...ids, error: errorSummary(err) });
      throw err;
    }
  };
}
