/** `readEvent` (lambda/runtime/websocket-event.ts): the checked fields of a WebSocket Lambda-proxy event. Pure. */
import { readEvent } from '../../../lambda/runtime/websocket-event';

describe('readEvent', () => {
  test('GIVEN an IAM-authorized message event WHEN read THEN id, signer ARN, source IP, time, headers and body are returned', () => {
    // GIVEN
    const event = {
      requestContext: {
        connectionId: 'L0SM9cOFvHcCIhw=',
        connectedAt: 1_700_000_000_000,
        identity: { sourceIp: '203.0.113.9', userArn: 'arn:aws:iam::123456789012:user/dev' },
      },
      headers: { Host: 'abc.execute-api.us-east-1.amazonaws.com' },
      body: '{"action":"join"}',
    };
    // WHEN
    const facts = readEvent(event);
    // THEN
    expect(facts).toEqual({
      connectionId: 'L0SM9cOFvHcCIhw=',
      principalId: undefined,
      callerArn: 'arn:aws:iam::123456789012:user/dev',
      sourceIp: '203.0.113.9',
      connectedAt: 1_700_000_000_000,
      headers: { Host: 'abc.execute-api.us-east-1.amazonaws.com' },
      body: '{"action":"join"}',
    });
  });

  test.each([
    ['null', null],
    ['a string', 'not an event'],
    ['a null requestContext', { requestContext: null }],
    ['a null identity', { requestContext: { identity: null, authorizer: null } }],
  ])('GIVEN %s WHEN read THEN every field is undefined and nothing throws', (_n, event) => {
    expect(readEvent(event)).toEqual({
      connectionId: undefined,
      principalId: undefined,
      callerArn: undefined,
      sourceIp: undefined,
      connectedAt: undefined,
      headers: undefined,
      body: undefined,
    });
  });

  test.each([
    ['an empty connection id and signer ARN', { connectionId: '', identity: { userArn: '' } }],
    ['a connectedAt given as text', { connectionId: '', connectedAt: '1700000000000' }],
    ['a connectedAt that is not finite', { connectionId: '', connectedAt: Number.NaN }],
  ])('GIVEN %s WHEN read THEN those fields are undefined', (_n, requestContext) => {
    const facts = readEvent({ requestContext });
    expect([facts.connectionId, facts.callerArn, facts.connectedAt]).toEqual([undefined, undefined, undefined]);
  });
});
