/**
 * The ticker example's publisher: not on any route. An EventBridge schedule (or `wsgate invoke` locally)
 * runs it; it sends one tick to every member of a room through `wsgate/runtime`.
 *
 * Room: `event.room` when the event names one, else the TICKER_ROOM variable, else `ticker`.
 */
import { createGatewayClient } from '../../runtime';
import { tick, tickerRoom } from '../tick';

// Module scope: created once per instance; settings are read on first use.
const gateway = createGatewayClient();
let seq = 0;

export async function handler(event: unknown): Promise<{ room: string; seq: number; delivered: number; gone: number; failed: number }> {
  const room = tickerRoom(event, process.env);
  seq += 1;
  const counts = await gateway.sendToRoom(room, tick(room, seq, Date.now()));
  return { room, seq, ...counts };
}
