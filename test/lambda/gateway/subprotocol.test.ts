/** `Sec-WebSocket-Protocol` negotiation of `$connect` (lambda/gateway/subprotocol.ts). Pure functions. */
import { headerValue, negotiateSubprotocol } from '../../../lambda/gateway/subprotocol';

describe('subprotocol negotiation (spec §2.3)', () => {
  test.each([
    ['no header', {}, ['chat.v1'], { kind: 'none' }],
    ['no headers object', undefined, ['chat.v1'], { kind: 'none' }],
    ['null headers', null, ['chat.v1'], { kind: 'none' }],
    ['other headers before it', { Host: 'a.example', Origin: 'https://b.example', 'Sec-WebSocket-Protocol': 'chat.v1' }, ['chat.v1'], { kind: 'accept', protocol: 'chat.v1' }],
    ['only other headers', { Host: 'chat.v1' }, ['chat.v1'], { kind: 'none' }],
    ['an empty header', { 'Sec-WebSocket-Protocol': ' , ' }, ['chat.v1'], { kind: 'none' }],
    ['one supported offer', { 'Sec-WebSocket-Protocol': 'chat.v1' }, ['chat.v1'], { kind: 'accept', protocol: 'chat.v1' }],
    ['lower-case header name', { 'sec-websocket-protocol': 'chat.v1' }, ['chat.v1'], { kind: 'accept', protocol: 'chat.v1' }],
    ['upper-case header name', { 'SEC-WEBSOCKET-PROTOCOL': 'x, chat.v1' }, ['chat.v1'], { kind: 'accept', protocol: 'chat.v1' }],
    ['first offered supported wins', { 'Sec-WebSocket-Protocol': 'a, chat.v2 ,chat.v1' }, ['chat.v1', 'chat.v2'], { kind: 'accept', protocol: 'chat.v2' }],
    ['nothing supported', { 'Sec-WebSocket-Protocol': 'a, b' }, ['chat.v1'], { kind: 'refuse', offered: ['a', 'b'] }],
    ['empty SUPPORTED list refuses any offer', { 'Sec-WebSocket-Protocol': 'chat.v1' }, [], { kind: 'refuse', offered: ['chat.v1'] }],
    ['token case differs', { 'Sec-WebSocket-Protocol': 'CHAT.V1' }, ['chat.v1'], { kind: 'refuse', offered: ['CHAT.V1'] }],
  ])('GIVEN %s WHEN negotiated THEN the decision is as expected', (_n, headers, supported, decision) => {
    expect(negotiateSubprotocol(headers, supported)).toEqual(decision);
  });

  test('GIVEN a non-string header value WHEN looked up THEN it is ignored', () => {
    expect(headerValue({ 'Sec-WebSocket-Protocol': ['a'] }, 'sec-websocket-protocol')).toBeUndefined();
  });
});
