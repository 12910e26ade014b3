/** Time source for the handlers, injectable so tests can fix "now". Returns epoch milliseconds. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Epoch seconds, the unit of the `expiresAt` TTL attribute. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
