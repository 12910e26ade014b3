/**
 * What `$default` answers a message that matched no route (lambda/gateway/unroutable.ts): the action protocol's
 * explanation for bodies with an "action" field or an API with the example's routes, otherwise "matched no route".
 */
import { errorFrame, explainUnroutable } from '../../../lambda/gateway/unroutable';

describe('explainUnroutable: the action protocol (a body with "action", or the example chat\'s routes)', () => {
  const keys = ['join', 'leave', 'sendmessage'];

  test.each([
    ['not JSON', 'hello', /not valid JSON.*the actions that exist are: join, leave, sendmessage/],
    ['a JSON array', '[1]', /is an array.*the actions that exist are: join, leave, sendmessage/],
    ['no action', '{"data":1}', /no "action" field.*the actions that exist are: join, leave, sendmessage/],
    ['a non-string action', '{"action":["join"]}', /"action" must be a string; the actions that exist are/],
    ['an unknown action', '{"action":"dance"}', /unknown action "dance"; the actions that exist are: join, leave, sendmessage/],
    ['a __proto__ key', '{"__proto__":{},"action":"x"}', /"__proto__" is not allowed/],
  ])('GIVEN %s WHEN explained THEN the message names the problem and the actions that exist', (_n, body, pattern) => {
    expect(explainUnroutable(body, keys)).toMatch(pattern);
  });

  test('GIVEN an API with no custom routes WHEN explained THEN it says so', () => {
    expect(explainUnroutable('{"action":"x"}', [])).toMatch(/no custom actions/);
  });

  test('GIVEN an action that names an existing route WHEN it still reached $default THEN the message says it could not be routed, not that it is unknown', () => {
    // GIVEN a body whose action is a route of the API (e.g. the API selects routes by another expression)
    const body = '{"action":"join","data":{"room":"lobby"}}';
    // WHEN / THEN (kills: `routeKeys.includes(action)` → false, and the message text emptied)
    expect(explainUnroutable(body, keys)).toBe('action "join" could not be routed; the actions that exist are: join, leave, sendmessage');
  });
});

describe('explainUnroutable: any other route selection expression', () => {
  const keys = ['subscribe', 'unsubscribe'];

  test.each([
    ['not JSON', 'hello'],
    ['a JSON array', '[1]'],
    ['an object without "action"', '{"type":"dance","data":{}}'],
    ['no body', undefined],
  ])('GIVEN %s and routes that are not the example\'s WHEN explained THEN it names the routes and never claims "action" is missing', (_n, body) => {
    const message = explainUnroutable(body, keys);
    expect(message).toBe('the message matched no route; the routes that exist are: subscribe, unsubscribe');
  });

  test('GIVEN the example\'s routes mixed with others and a body without "action" WHEN explained THEN it is not treated as the action protocol', () => {
    expect(explainUnroutable('{"type":"x"}', ['join', 'subscribe'])).toBe('the message matched no route; the routes that exist are: join, subscribe');
  });

  test('GIVEN a body with "action" under such routes WHEN explained THEN the action protocol explanation is kept', () => {
    expect(explainUnroutable('{"action":"dance"}', keys)).toBe('unknown action "dance"; the actions that exist are: subscribe, unsubscribe');
  });

  test('GIVEN an API with no custom routes and a body without "action" WHEN explained THEN it says no route exists besides $default', () => {
    expect(explainUnroutable('{"type":"x"}', [])).toBe('the message matched no route; this API has no routes besides $default');
  });

  test('GIVEN a message WHEN framed THEN it is the error frame of the protocol', () => {
    expect(JSON.parse(errorFrame('bad'))).toEqual({ type: 'error', message: 'bad' });
  });
});
