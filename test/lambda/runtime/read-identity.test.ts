/** `readIdentity` of `wsgate/runtime` (lambda/runtime/read-identity.ts): the caller of a WebSocket event. Pure. */
import { InvalidArgumentError, readIdentity } from '../../../lambda/runtime';

function event(requestContext: Record<string, unknown>) {
  return { requestContext, isBase64Encoded: false };
}

describe('readIdentity', () => {
  test('GIVEN an authorized message event WHEN read THEN id, route, principal, the other authorizer values, source IP and time are returned', () => {
    // GIVEN: what API Gateway passes for a REQUEST authorizer's context (principalId, integrationLatency and the context keys)
    const e = event({
      routeKey: 'sendmessage',
      eventType: 'MESSAGE',
      connectionId: 'L0SM9cOFvHcCIhw=',
      connectedAt: 1_700_000_000_000,
      identity: { sourceIp: '203.0.113.9' },
      authorizer: { principalId: 'alice', integrationLatency: 12, tenant: 'acme', admin: false, tier: 3, nested: { no: 1 } },
    });
    // WHEN
    const identity = readIdentity(e);
    // THEN
    expect(identity).toEqual({
      connectionId: 'L0SM9cOFvHcCIhw=',
      routeKey: 'sendmessage',
      principalId: 'alice',
      context: { tenant: 'acme', admin: false, tier: 3 },
      sourceIp: '203.0.113.9',
      connectedAt: 1_700_000_000_000,
    });
  });

  test('GIVEN an event without an authorizer WHEN read THEN principal is undefined and the context empty', () => {
    expect(readIdentity(event({ routeKey: '$disconnect', connectionId: 'A=' }))).toEqual({
      connectionId: 'A=',
      routeKey: '$disconnect',
      principalId: undefined,
      context: {},
      sourceIp: undefined,
      connectedAt: undefined,
    });
  });

  test('GIVEN a numeric principalId WHEN read THEN it is its string form', () => {
    expect(readIdentity(event({ connectionId: 'A=', authorizer: { principalId: 42 } })).principalId).toBe('42');
  });

  test.each([
    ['no event', undefined],
    ['no requestContext', {}],
    ['an empty connectionId', event({ connectionId: '' })],
    ['a non-string connectionId', event({ connectionId: 5 })],
    ['a null event', null],
    ['a null requestContext', { requestContext: null }],
  ])('GIVEN %s WHEN read THEN an InvalidArgumentError says it is not a WebSocket event', (_n, e) => {
    expect(() => readIdentity(e)).toThrow(InvalidArgumentError);
    expect(() => readIdentity(e)).toThrow(/no requestContext.connectionId/);
  });
});

describe('readIdentity of crafted or malformed events (a test harness or another caller may build them)', () => {
  test.each([
    ['an empty route key', ''],
    ['a route key that is not a string', ['sendmessage']],
  ])('GIVEN %s WHEN read THEN routeKey is undefined', (_n, routeKey) => {
    expect(readIdentity(event({ connectionId: 'A=', routeKey })).routeKey).toBeUndefined();
  });

  test('GIVEN a null authorizer WHEN read THEN the context is empty and nothing throws', () => {
    expect(readIdentity(event({ connectionId: 'A=', authorizer: null })).context).toEqual({});
  });

  test('GIVEN authorizer values that JSON cannot carry or that are not scalars WHEN read THEN only finite numbers, strings and booleans stay', () => {
    // GIVEN
    const authorizer = { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, zero: 0, no: false, empty: '', list: ['a'], nothing: null };
    // WHEN
    const { context } = readIdentity(event({ connectionId: 'A=', authorizer }));
    // THEN
    expect(context).toEqual({ zero: 0, no: false, empty: '' });
  });
});
