/**
 * `$disconnect`: deletes the connection item and all its memberships. Best effort (spec §2.5): a failure is
 * logged and answered with a 500, never thrown; the TTL removes what is left.
 */
import type { ConnectionStore } from '../../runtime';
import { Logger, describeError } from '../../runtime/log';
import { ProxyResult, readEvent } from '../../runtime/websocket-event';

export interface DisconnectRouteDeps {
  readonly store: Pick<ConnectionStore, 'deleteConnection'>;
  readonly log: Logger;
}

export function createDisconnectHandler(deps: DisconnectRouteDeps): (event: unknown) => Promise<ProxyResult> {
  return async (event) => {
    const { connectionId } = readEvent(event);
    const log = deps.log.child({ route: '$disconnect', connectionId });
    if (!connectionId) {
      log.error('disconnect_ignored', { reason: 'event has no requestContext.connectionId' });
      return { statusCode: 400 };
    }
    try {
      const deleted = await deps.store.deleteConnection(connectionId);
      log.info('disconnected', { itemsDeleted: deleted });
      return { statusCode: 200 };
    } catch (err) {
      log.error('disconnect_cleanup_failed', { ...describeError(err), note: 'expiresAt TTL will remove the items' });
      return { statusCode: 500 };
    }
  };
}
