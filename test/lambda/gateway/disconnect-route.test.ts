/**
 * `$disconnect` (lambda/gateway/routes/disconnect-route.ts) in detail: the exact answer and log line of every outcome,
 * with a real connection store on dynalite (an unreachable endpoint for the failure). The end-to-end route
 * behaviour is in test/lambda/routes.test.ts.
 */
import { ConnectionStore } from '../../../lambda/runtime/connection-store';
import { createLogger } from '../../../lambda/runtime/log';
import { createDisconnectHandler } from '../../../lambda/gateway/routes/disconnect-route';
import { ROOM_INDEX, closedPort, documentClientFor, useLocalDynamo } from '../support/local-dynamodb';

const dynamo = useLocalDynamo();
let tableCount = 0;

async function handler(options: { unreachable?: boolean } = {}) {
  const table = `disconnect-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  const client = options.unreachable ? documentClientFor(`http://127.0.0.1:${await closedPort()}`) : dynamo.doc;
  const store = new ConnectionStore({ client, tableName: table, roomIndex: ROOM_INDEX });
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const logged = () => lines.map(({ time: _t, ...rest }) => rest);
  return { disconnect: createDisconnectHandler({ store, log }), store, logged };
}

const event = (connectionId?: string) => ({ requestContext: { routeKey: '$disconnect', ...(connectionId ? { connectionId } : {}) } });

describe('$disconnect answers and log lines', () => {
  test('GIVEN no connection id WHEN disconnecting THEN 400 and an error line with the reason', async () => {
    const h = await handler();
    expect(await h.disconnect(event())).toEqual({ statusCode: 400 });
    expect(h.logged()).toEqual([{ level: 'error', event: 'disconnect_ignored', route: '$disconnect', reason: 'event has no requestContext.connectionId' }]);
  });

  test('GIVEN a connection in a room WHEN it disconnects THEN 200 and an info line with the items deleted', async () => {
    const h = await handler();
    const expiresAt = Math.floor(Date.now() / 1000) + 60;
    await h.store.putConnection({ connectionId: 'A=', userId: 'ann', connectedAt: 1, expiresAt });
    await h.store.joinRoom({ connectionId: 'A=', room: 'hall', userId: 'ann', joinedAt: 1, expiresAt });
    expect(await h.disconnect(event('A='))).toEqual({ statusCode: 200 });
    expect(h.logged()).toEqual([{ level: 'info', event: 'disconnected', route: '$disconnect', connectionId: 'A=', itemsDeleted: 2 }]);
  });

  test('GIVEN an unreachable table WHEN disconnecting THEN 500 and an error line saying the TTL will remove the items', async () => {
    const h = await handler({ unreachable: true });
    expect(await h.disconnect(event('B='))).toEqual({ statusCode: 500 });
    expect(h.logged()).toEqual([expect.objectContaining({
      level: 'error', event: 'disconnect_cleanup_failed', route: '$disconnect', connectionId: 'B=', error: expect.any(String), note: 'expiresAt TTL will remove the items',
    })]);
  });
});
