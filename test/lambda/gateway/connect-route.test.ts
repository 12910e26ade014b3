/**
 * `$connect` (lambda/gateway/routes/connect-route.ts) in detail: the exact answer and the exact log line of every
 * outcome, with a real connection store on dynalite (an unreachable endpoint for the failure). The end-to-end route
 * behaviour is in test/lambda/routes.test.ts.
 */
import { ConnectionStore } from '../../../lambda/runtime/connection-store';
import { createLogger } from '../../../lambda/runtime/log';
import { createConnectHandler } from '../../../lambda/gateway/routes/connect-route';
import { closedPort, documentClientFor, useLocalDynamo } from '../support/local-dynamodb';

const NOW_MS = 1_800_000_000_000;
const dynamo = useLocalDynamo();
let tableCount = 0;

async function handler(subprotocols: string[], options: { unreachable?: boolean } = {}) {
  const table = `connect-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  const client = options.unreachable ? documentClientFor(`http://127.0.0.1:${await closedPort()}`) : dynamo.doc;
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const connect = createConnectHandler({ store: new ConnectionStore({ client, tableName: table }), clock: () => NOW_MS, log, connectionTtlSeconds: 60, subprotocols });
  /** The log lines without their time. */
  const logged = () => lines.map(({ time: _t, ...rest }) => rest);
  return { connect, logged, table };
}

function event(connectionId: string | undefined, principalId: string | undefined, headers: Record<string, string> = {}) {
  return {
    headers,
    requestContext: {
      routeKey: '$connect',
      ...(connectionId ? { connectionId } : {}),
      ...(principalId ? { authorizer: { principalId } } : {}),
    },
  };
}

describe('$connect answers and log lines', () => {
  test('GIVEN no connection id WHEN connecting THEN 400 saying so, and an error line with the reason', async () => {
    const h = await handler([]);
    expect(await h.connect(event(undefined, 'ann'))).toEqual({ statusCode: 400, body: 'the $connect event has no requestContext.connectionId' });
    expect(h.logged()).toEqual([{ level: 'error', event: 'connect_rejected', route: '$connect', reason: 'event has no requestContext.connectionId' }]);
  });

  test('GIVEN no principal and no signer WHEN connecting THEN 403 and an error line asking whether $connect is authorized', async () => {
    const h = await handler([]);
    expect(await h.connect(event('A=', undefined))).toEqual({ statusCode: 403, body: 'no authorized identity' });
    expect(h.logged()).toEqual([{
      level: 'error', event: 'connect_rejected', route: '$connect', connectionId: 'A=',
      reason: 'no requestContext.authorizer.principalId and no requestContext.identity.userArn; is $connect authorized?',
    }]);
  });

  test.each([
    [['chat.v1', 'chat.v2'], 'none of the offered subprotocols is supported; supported: chat.v1, chat.v2'],
    [[], 'none of the offered subprotocols is supported; supported: (none)'],
  ])('GIVEN subprotocols %j and an offer of none of them WHEN connecting THEN 400 naming what is supported', async (supported, body) => {
    const h = await handler(supported);
    expect(await h.connect(event('B=', 'ann', { 'Sec-WebSocket-Protocol': 'mqtt' }))).toEqual({ statusCode: 400, body });
    expect(h.logged()).toEqual([{ level: 'info', event: 'connect_rejected', route: '$connect', connectionId: 'B=', reason: 'no supported subprotocol offered', offeredCount: 1 }]);
  });

  test('GIVEN an accepted subprotocol WHEN connected THEN 200 with it echoed and an info line naming user and subprotocol; without an offer no subprotocol field', async () => {
    const h = await handler(['chat.v1']);
    expect(await h.connect(event('C=', 'ann', { 'Sec-WebSocket-Protocol': 'chat.v1' }))).toEqual({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'chat.v1' } });
    expect(await h.connect(event('D=', 'bob'))).toEqual({ statusCode: 200 });
    expect(h.logged()).toEqual([
      { level: 'info', event: 'connected', route: '$connect', connectionId: 'C=', userId: 'ann', subprotocol: 'chat.v1' },
      { level: 'info', event: 'connected', route: '$connect', connectionId: 'D=', userId: 'bob' },
    ]);
  });

  test('GIVEN an unreachable table WHEN connecting THEN 500 asking to try again and an error line with the error', async () => {
    const h = await handler([], { unreachable: true });
    expect(await h.connect(event('E=', 'ann'))).toEqual({ statusCode: 500, body: 'the connection could not be recorded; try again' });
    expect(h.logged()).toEqual([expect.objectContaining({ level: 'error', event: 'connect_store_failed', route: '$connect', connectionId: 'E=', error: expect.any(String) })]);
  });
});
