/**
 * Compares what each client should have received with what it did: lost (expected, never arrived), duplicates
 * (arrived more than once) and misrouted (arrived, not meant for this client).
 */
import type { ChatClient } from './chat-client';

export interface DeliveryTally {
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly misrouted: number;
  /** Clients that missed at least one message (first few, for the report). */
  readonly clientsWithLosses: string[];
}

const EXAMPLES_KEPT = 10;

/** `expectedFor(client)` lists the message texts that client must receive exactly once. */
export function tallyDeliveries(clients: readonly ChatClient[], expectedFor: (client: ChatClient) => string[]): DeliveryTally {
  let expected = 0;
  let delivered = 0;
  let lost = 0;
  let duplicates = 0;
  let misrouted = 0;
  const clientsWithLosses: string[] = [];
  for (const client of clients) {
    const wanted = new Set(expectedFor(client));
    expected += wanted.size;
    let clientLost = 0;
    for (const text of wanted) {
      const count = client.received.get(text) ?? 0;
      if (count === 0) clientLost += 1;
      else delivered += 1;
      duplicates += Math.max(0, count - 1);
    }
    for (const [text, count] of client.received) if (!wanted.has(text)) misrouted += count;
    lost += clientLost;
    if (clientLost > 0 && clientsWithLosses.length < EXAMPLES_KEPT) clientsWithLosses.push(client.user);
  }
  return { expected, delivered, lost, duplicates, misrouted, clientsWithLosses };
}

/** Polls until `done()` or `deadline` (epoch ms); resolves with whether `done()` became true. */
export async function waitUntil(done: () => boolean, deadline: number, pollMs = 200): Promise<boolean> {
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

/**
 * Polls `progress()` (a count that only grows) until it reaches `target`, `deadline` passes, or it has not grown for
 * `stallMs`; resolves with whether the target was reached.
 */
export async function waitForProgress(
  progress: () => number,
  target: number,
  deadline: number,
  stallMs: number,
  pollMs = 200,
): Promise<boolean> {
  let last = progress();
  let lastChange = Date.now();
  while (last < target) {
    const now = Date.now();
    if (now >= deadline || now - lastChange >= stallMs) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const current = progress();
    if (current !== last) {
      last = current;
      lastChange = Date.now();
    }
  }
  return true;
}
