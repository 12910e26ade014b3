/**
 * Cost per operation: the DynamoDB requests and capacity units of each chat operation, measured by running the
 * built handler bundles (in this process) against dynalite through the metering proxy (bench/lib/ddb-meter.ts),
 * which counts every request and asks the store for ReturnConsumedCapacity TOTAL.
 * Capacity units are dynalite's computation (item size, 4 KB read units, 1 KB write units, eventually
 * consistent reads at half); dynalite does not add the GSI's write units, which DynamoDB charges for every
 * write of a membership item (it carries `room`, so it is projected into byRoom).
 */
import { connectEvent, connectionId, disconnectEvent, messageEvent } from '../lib/events';
import { DynamoMeter, diffTotals, OpTotals, startDynamoMeter } from '../lib/ddb-meter';
import { createConnectionsTable, dynamoClient, FAKE_CREDENTIALS, REGION, ROOM_INDEX, startDynalite } from '../lib/dynalite';
import { startFakeConnections } from '../lib/fake-connections';
import { progress } from '../lib/log';
import { seedMany } from '../handlers/seed';
import { Handler, loadHandlers } from './load-handlers';

const TABLE = 'BenchCostConnections';

export interface OperationCost extends OpTotals {
  readonly operation: string;
  /** What the table held when the operation ran. */
  readonly setup: string;
  /** Frames posted to @connections by the handler. */
  readonly posts: number;
  readonly statusCode: number;
  /** Writes of items that carry `room` (each also a byRoom GSI write on DynamoDB, not in writeUnits). */
  readonly gsiWritesNotMetered: number;
}

export interface CostResult {
  readonly method: string;
  readonly operations: OperationCost[];
}

async function measure(
  meter: DynamoMeter,
  posts: () => number,
  operation: string,
  setup: string,
  gsiWritesNotMetered: number,
  run: () => Promise<{ statusCode: number }>,
): Promise<OperationCost> {
  const before = meter.totals();
  const postsBefore = posts();
  const { statusCode } = await run();
  const delta = diffTotals(before, meter.totals());
  const cost = { operation, setup, ...delta, posts: posts() - postsBefore, statusCode, gsiWritesNotMetered };
  progress(`cost: ${operation} (${setup}): ${JSON.stringify(delta.calls)} RCU ${delta.readUnits} WCU ${delta.writeUnits}`);
  if (statusCode !== 200) throw new Error(`cost: ${operation} answered ${statusCode}`);
  return cost;
}

export async function runCost(): Promise<CostResult> {
  const dynamo = await startDynalite();
  const meter = await startDynamoMeter(dynamo.endpoint);
  const stub = await startFakeConnections('prod');
  const client = dynamoClient(dynamo.endpoint);
  await createConnectionsTable(client, TABLE);
  const loaded = loadHandlers(['connect', 'disconnect', 'join', 'leave', 'sendmessage'], {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: meter.endpoint,
    CONNECTIONS_TABLE: TABLE,
    ROOM_INDEX,
    CALLBACK_URL: stub.callbackUrl,
    CONNECTION_TTL_SECONDS: '7500',
    SUBPROTOCOLS: '',
    FANOUT_CONCURRENCY: '20',
  });
  const h: Record<string, Handler> = loaded.handlers;
  const posts = () => stub.posts();
  const ops: OperationCost[] = [];
  const m = (op: string, setup: string, gsi: number, run: () => Promise<{ statusCode: number }>) =>
    measure(meter, posts, op, setup, gsi, run).then((c) => void ops.push(c));
  try {
    const me = connectionId();
    await m('connect', 'empty table', 0, () => h.connect(connectEvent(me, 'alice')));
    await m('join', 'first room of the connection', 1, () => h.join(messageEvent(me, 'alice', 'join', { action: 'join', data: { room: 'lobby' } })));
    await m('room send', 'room of 1 (the sender)', 0, () =>
      h.sendmessage(messageEvent(me, 'alice', 'sendmessage', { action: 'sendmessage', data: { room: 'lobby', text: 'hi' } })),
    );
    await m('leave', 'member of the room', 1, () => h.leave(messageEvent(me, 'alice', 'leave', { action: 'leave', data: { room: 'lobby' } })));
    for (const rooms of [0, 1, 3]) {
      const id = connectionId();
      await h.connect(connectEvent(id, 'bob'));
      for (let r = 0; r < rooms; r++) await h.join(messageEvent(id, 'bob', 'join', { action: 'join', data: { room: `room-${r}` } }));
      await m('disconnect', `connection with ${rooms} membership(s)`, rooms, () => h.disconnect(disconnectEvent(id, 'bob')));
    }
    // Room sends and broadcasts grow with the recipients: other members are seeded directly, then one send.
    // Larger tables are measured by the fan-out suite through the emulator.
    const sizes = [10, 1000];
    let connections = 1; // alice, connected, in no room
    let memberships = 0;
    for (const size of sizes) {
      const room = `big-${size}`;
      const sender = connectionId();
      await h.connect(connectEvent(sender, 'carol'));
      await h.join(messageEvent(sender, 'carol', 'join', { action: 'join', data: { room } }));
      await seedMany(client, TABLE, Array.from({ length: size - 1 }, () => connectionId()), room);
      connections += size;
      memberships += size;
      const table = `table: ${connections} connections, ${memberships} memberships`;
      await m('room send', `room of ${size}; ${table}`, 0, () =>
        h.sendmessage(messageEvent(sender, 'carol', 'sendmessage', { action: 'sendmessage', data: { room, text: 'hi' } })),
      );
      await m('broadcast', table, 0, () =>
        h.sendmessage(messageEvent(sender, 'carol', 'sendmessage', { action: 'sendmessage', data: { text: 'hi' } })),
      );
    }
    return {
      method:
        'built handler bundles invoked in the bench process with real-shaped events; AWS_ENDPOINT_URL_DYNAMODB points at a ' +
        'metering proxy in front of dynalite that counts each request and adds ReturnConsumedCapacity: TOTAL',
      operations: ops,
    };
  } finally {
    loaded.restore();
    client.destroy();
    await stub.stop();
    await meter.stop();
    await dynamo.stop();
  }
}
