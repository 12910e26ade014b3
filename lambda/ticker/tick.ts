/** The ticker example's message and room choice, as plain functions. */

/** The room ticks go to unless the event or TICKER_ROOM says otherwise. */
export const DEFAULT_TICKER_ROOM = 'ticker';

/** One tick: `{"type":"tick","room":…,"at":<epoch ms>,"seq":…,"price":…}`; the price is derived from seq (deterministic). */
export interface Tick {
  readonly type: 'tick';
  readonly room: string;
  readonly at: number;
  readonly seq: number;
  readonly price: number;
}

export function tick(room: string, seq: number, at: number): Tick {
  // A price-like series that moves every tick and stays positive: 100 ± 5.
  const price = Math.round((100 + 5 * Math.sin(seq / 3)) * 100) / 100;
  return { type: 'tick', room, at, seq, price };
}

/** `event.room` when it is a non-empty string, else TICKER_ROOM, else `ticker`. The runtime checks the name. */
export function tickerRoom(event: unknown, env: Readonly<Record<string, string | undefined>>): string {
  const fromEvent = (event as { room?: unknown } | null | undefined)?.room;
  if (typeof fromEvent === 'string' && fromEvent !== '') return fromEvent;
  const fromEnv = env.TICKER_ROOM;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_TICKER_ROOM;
}
