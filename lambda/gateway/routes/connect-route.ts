/**
 * `$connect`: records the connection (idempotent upsert) and negotiates the subprotocol (spec §2.3).
 * It never posts to the connection: the connection does not exist until this returns (spec §2.1.5).
 */
import { Clock, epochSeconds } from '../../runtime/clock';
import type { ConnectionStore } from '../../runtime';
import { Logger, describeError } from '../../runtime/log';
import { negotiateSubprotocol } from '../subprotocol';
import { ProxyResult, readEvent } from '../../runtime/websocket-event';

export interface ConnectRouteDeps {
  readonly store: Pick<ConnectionStore, 'putConnection'>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly connectionTtlSeconds: number;
  /** Subprotocols accepted, in the server's order of support; the client's order decides (first offered wins). */
  readonly subprotocols: readonly string[];
}

export function createConnectHandler(deps: ConnectRouteDeps): (event: unknown) => Promise<ProxyResult> {
  return async (event) => {
    const facts = readEvent(event);
    const log = deps.log.child({ route: '$connect', connectionId: facts.connectionId });
    if (!facts.connectionId) {
      log.error('connect_rejected', { reason: 'event has no requestContext.connectionId' });
      return { statusCode: 400, body: 'the $connect event has no requestContext.connectionId' };
    }
    // The JWT authorizer's principal, or with IAM authorization on $connect the ARN of the identity that signed.
    const userId = facts.principalId ?? facts.callerArn;
    if (!userId) {
      // The construct always authorizes $connect (JWT authorizer or IAM); without either there is no user to record.
      log.error('connect_rejected', { reason: 'no requestContext.authorizer.principalId and no requestContext.identity.userArn; is $connect authorized?' });
      return { statusCode: 403, body: 'no authorized identity' };
    }
    const decision = negotiateSubprotocol(facts.headers, deps.subprotocols);
    if (decision.kind === 'refuse') {
      // spec §2.3 / D4: a client that offered subprotocols must get one back, or the handshake fails; refuse with 400.
      // Only the count: some clients carry a token in Sec-WebSocket-Protocol, so the offers are never logged.
      log.info('connect_rejected', { reason: 'no supported subprotocol offered', offeredCount: decision.offered.length });
      return {
        statusCode: 400,
        body: `none of the offered subprotocols is supported; supported: ${deps.subprotocols.join(', ') || '(none)'}`,
      };
    }
    const now = deps.clock();
    try {
      await deps.store.putConnection({
        connectionId: facts.connectionId,
        userId,
        connectedAt: facts.connectedAt ?? now,
        ...(facts.sourceIp ? { sourceIp: facts.sourceIp } : {}),
        expiresAt: epochSeconds(now) + deps.connectionTtlSeconds,
      });
    } catch (err) {
      log.error('connect_store_failed', describeError(err));
      return { statusCode: 500, body: 'the connection could not be recorded; try again' };
    }
    log.info('connected', { userId, subprotocol: decision.kind === 'accept' ? decision.protocol : undefined });
    return decision.kind === 'accept'
      ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': decision.protocol } }
      : { statusCode: 200 };
  };
}
