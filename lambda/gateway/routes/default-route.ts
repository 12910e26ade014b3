/**
 * `$default`: frames that matched no route (spec §3: not JSON, no action, unknown action) get an error frame
 * saying what is wrong and naming the actions that exist (ROUTE_KEYS).
 */
import { Logger } from '../../runtime/log';
import type { Messenger } from '../../runtime';
import { explainUnroutable, frames } from '../../chat/protocol';
import { ProxyResult, readEvent } from '../../runtime/websocket-event';

export interface DefaultRouteDeps {
  readonly messenger: Pick<Messenger, 'post'>;
  readonly log: Logger;
  readonly routeKeys: readonly string[];
}

export function createDefaultHandler(deps: DefaultRouteDeps): (event: unknown) => Promise<ProxyResult> {
  return async (event) => {
    const { connectionId, body } = readEvent(event);
    const log = deps.log.child({ route: '$default', connectionId });
    if (!connectionId) {
      log.error('default_ignored', { reason: 'event has no requestContext.connectionId' });
      return { statusCode: 400 };
    }
    const outcome = await deps.messenger.post(connectionId, frames.error(explainUnroutable(body, deps.routeKeys)));
    log.info('unroutable_frame_answered', { outcome });
    return { statusCode: 400 };
  };
}
