/** The ticker example's message and room choice (lambda/ticker/tick.ts). */
import { DEFAULT_TICKER_ROOM, tick, tickerRoom } from '../../../lambda/ticker/tick';

describe('tick', () => {
  test('GIVEN a room, seq and time WHEN a tick is made THEN it carries them with a positive price near 100', () => {
    const message = tick('ticker', 3, 1_800_000_000_000);
    expect(message).toMatchObject({ type: 'tick', room: 'ticker', seq: 3, at: 1_800_000_000_000 });
    expect(message.price).toBeGreaterThanOrEqual(95);
    expect(message.price).toBeLessThanOrEqual(105);
    expect(tick('ticker', 4, 0).price).not.toBe(message.price);
  });
});

describe('tickerRoom', () => {
  test.each([
    [{ room: 'prices' }, { TICKER_ROOM: 'env-room' }, 'prices'],
    [{ room: '' }, { TICKER_ROOM: 'env-room' }, 'env-room'],
    [{ 'detail-type': 'Scheduled Event' }, { TICKER_ROOM: 'env-room' }, 'env-room'],
    [{ room: 42 }, {}, DEFAULT_TICKER_ROOM],
    [null, { TICKER_ROOM: '' }, DEFAULT_TICKER_ROOM],
  ])('GIVEN event %j and env %j WHEN the room is chosen THEN it is %s', (event, env, expected) => {
    expect(tickerRoom(event, env)).toBe(expected);
  });
});
