/**
 * `$default`: frames that matched no route get an error frame saying what is wrong and naming the routes that
 * exist (ROUTE_KEYS); see ../unroutable.ts for when it explains the `{"action": ...}` protocol.
 */
import { Logger } from '../../runtime/log';
import type { Messenger } from '../../runtime';
import { errorFrame, explainUnroutable } from '../unroutable';
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
    const outcome = await deps.messenger.post(connectionId, errorFrame(explainUnroutable(body, deps.routeKeys)));
    log.info('unroutable_frame_answered', { outcome });
    return { statusCode: 400 };
  };
}
