/**
 * `$default` (lambda/gateway/routes/default-route.ts) in detail: the error frame posted back, the answer and the log
 * line, with a real messenger on a local `@connections` server. The explanation texts are tested in
 * unroutable.test.ts; the end-to-end route behaviour in test/lambda/routes.test.ts.
 */
import { createLogger } from '../../../lambda/runtime/log';
import { createManagementClient } from '../../../lambda/runtime/management-client';
import { Messenger } from '../../../lambda/runtime/messenger';
import { createDefaultHandler } from '../../../lambda/gateway/routes/default-route';
import { FakeConnectionsApi, startFakeConnectionsApi } from '../support/fake-connections-api';
import { TEST_CREDENTIALS } from '../support/local-dynamodb';

let api: FakeConnectionsApi;
beforeAll(async () => {
  api = await startFakeConnectionsApi();
});
afterAll(async () => {
  await api.stop();
});

function handler() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const client = createManagementClient(api.callbackUrl, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
  const messenger = new Messenger({ client, removeConnection: async () => 0, log });
  const logged = () => lines.map(({ time: _t, ...rest }) => rest);
  return { handle: createDefaultHandler({ messenger, log, routeKeys: ['join', 'leave', 'sendmessage'] }), logged };
}

describe('$default answers and log lines', () => {
  test('GIVEN a frame that matched no route WHEN handled THEN the error frame is posted back, 400, and an info line with the outcome', async () => {
    const h = handler();
    api.open('A=');
    const result = await h.handle({ requestContext: { routeKey: '$default', connectionId: 'A=' }, body: '{"action":"dance"}' });
    expect(result).toStrictEqual({ statusCode: 400 });
    expect(api.received('A=')).toEqual([{ type: 'error', message: 'unknown action "dance"; the actions that exist are: join, leave, sendmessage' }]);
    expect(h.logged()).toEqual([{ level: 'info', event: 'unroutable_frame_answered', route: '$default', connectionId: 'A=', outcome: 'delivered' }]);
  });

  test('GIVEN no connection id WHEN handled THEN 400, nothing is posted, and an error line with the reason', async () => {
    const h = handler();
    const requests = api.requestCount;
    expect(await h.handle({ requestContext: { routeKey: '$default' }, body: 'x' })).toStrictEqual({ statusCode: 400 });
    expect(api.requestCount).toBe(requests);
    expect(h.logged()).toEqual([{ level: 'error', event: 'default_ignored', route: '$default', reason: 'event has no requestContext.connectionId' }]);
  });
});
