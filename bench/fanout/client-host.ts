/**
 * Child process holding the benchmark's WebSocket clients (so their work does not share the parent's event loop).
 * Driven over IPC by bench/fanout/clients.ts; every reply is { type: 'reply', id, ... }.
 *   connect { url, from, to, concurrency }  open clients [from, to), each with its own dev token (user `u<i>`)
 *   join    { room, from, to, concurrency } each sends join and waits for its "joined" frame
 *   send    { sender, body, marker, from, to, timeoutMs, idleMs }  one frame from `sender`; counts, per client,
 *           frames containing `marker` until all of [from, to) have one (then a short settle for duplicates)
 *   arm     { marker }                      starts counting frames with `marker` without sending (a host that holds
 *                                           recipients but not the sender); replies at once
 *   await   { from, to, timeoutMs, idleMs } after `arm`: counts until all of [from, to) have one, as `send` does
 *   close   {}                              closes every client, then exits
 * Replies of send/await carry `startedAtEpoch` / `lastAtEpoch` (ms since the epoch, from performance.timeOrigin) so
 * that the parent can combine several client hosts into one wall time.
 */
import WebSocket from 'ws';
import { signDevToken } from '../../local/dev-token';
import { forEachBounded } from '../lib/pool';

interface Request {
  id: number;
  cmd: 'connect' | 'join' | 'send' | 'arm' | 'await' | 'close';
  [key: string]: unknown;
}

const clients: WebSocket[] = [];
const waiters = new Map<number, (text: string) => void>();
let unexpectedCloses = 0;
let closing = false;
let tally: { marker: Buffer; counts: Uint16Array; lastAt: number; arrivals: number } | undefined;
const senderFrames: string[] = [];
let senderIndex = -1;

function open(url: string, index: number): Promise<string | undefined> {
  return signDevToken({ user: `u${index}` }).then(
    (token) =>
      new Promise((resolve) => {
        const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false });
        ws.once('open', () => {
          clients[index] = ws;
          resolve(undefined);
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(`HTTP ${res.statusCode}`);
          ws.terminate();
        });
        ws.once('error', (err) => resolve(err.message));
        ws.on('message', (data: Buffer) => {
          const t = tally;
          if (t && data.includes(t.marker)) {
            t.counts[index]++;
            t.arrivals++;
            t.lastAt = performance.now();
          }
          // Error frames to the sender: the handler's own, or API Gateway's when the invocation fails or times out.
          if (index === senderIndex && (data.includes('"type":"error"') || data.includes('Internal server error'))) {
            senderFrames.push(data.toString('utf8'));
          }
          const waiter = waiters.get(index);
          if (waiter) waiter(data.toString('utf8'));
        });
        ws.on('close', () => {
          if (!closing) unexpectedCloses++;
        });
      }),
  );
}

async function connect(r: Request): Promise<Record<string, unknown>> {
  const started = performance.now();
  const failures: string[] = [];
  await forEachBounded(r.from as number, r.to as number, r.concurrency as number, async (i) => {
    const failure = await open(r.url as string, i);
    if (failure) failures.push(failure);
  });
  return { opened: (r.to as number) - (r.from as number) - failures.length, failed: failures.length, failures: failures.slice(0, 5), ms: performance.now() - started };
}

async function join(r: Request): Promise<Record<string, unknown>> {
  const started = performance.now();
  let failed = 0;
  await forEachBounded(r.from as number, r.to as number, r.concurrency as number, async (i) => {
    const ws = clients[i];
    const answer = new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), 30_000);
      waiters.set(i, (text) => {
        clearTimeout(timer);
        waiters.delete(i);
        resolve(text);
      });
    });
    ws.send(JSON.stringify({ action: 'join', data: { room: r.room } }));
    if (!(await answer).includes('"joined"')) failed++;
  });
  return { joined: (r.to as number) - (r.from as number) - failed, failed, ms: performance.now() - started };
}

function arm(marker: string): NonNullable<typeof tally> {
  const t = { marker: Buffer.from(marker), counts: new Uint16Array(clients.length), lastAt: 0, arrivals: 0 };
  tally = t;
  return t;
}

async function send(r: Request): Promise<Record<string, unknown>> {
  const t = arm(r.marker as string);
  senderIndex = r.sender as number;
  senderFrames.length = 0;
  const started = performance.now();
  clients[senderIndex].send(JSON.stringify(r.body));
  return collect(r, t, started);
}

async function awaitArmed(r: Request): Promise<Record<string, unknown>> {
  if (!tally) throw new Error('await without arm');
  return collect(r, tally, performance.now());
}

async function collect(r: Request, t: NonNullable<typeof tally>, started: number): Promise<Record<string, unknown>> {
  const from = r.from as number;
  const to = r.to as number;
  const expected = to - from;
  const deadline = started + (r.timeoutMs as number);
  const covered = () => {
    let n = 0;
    for (let i = from; i < to; i++) if (t.counts[i] > 0) n++;
    return n;
  };
  let reached = false;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = performance.now();
    if (t.arrivals >= expected && covered() === expected) {
      reached = true;
      break;
    }
    if (now > deadline) break;
    if (t.arrivals > 0 && now - t.lastAt > (r.idleMs as number)) break;
  }
  const wallMs = (t.lastAt || performance.now()) - started;
  // Late duplicates: keep counting a little after the last expected frame.
  await new Promise((resolve) => setTimeout(resolve, 300));
  tally = undefined;
  let delivered = 0;
  let duplicates = 0;
  let outside = 0;
  for (let i = 0; i < t.counts.length; i++) {
    const c = t.counts[i];
    if (i >= from && i < to) {
      if (c > 0) delivered++;
      if (c > 1) duplicates += c - 1;
    } else outside += c;
  }
  return {
    expected, delivered, lost: expected - delivered, duplicates, outsideRange: outside, wallMs, complete: reached,
    senderErrors: senderFrames.slice(0, 3),
    startedAtEpoch: performance.timeOrigin + started,
    lastAtEpoch: t.lastAt ? performance.timeOrigin + t.lastAt : undefined,
  };
}

async function closeAll(): Promise<Record<string, unknown>> {
  closing = true;
  const open = clients.filter((ws) => ws && ws.readyState === WebSocket.OPEN);
  const started = performance.now();
  await forEachBounded(0, open.length, 500, (i) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        open[i].terminate();
        resolve();
      }, 10_000);
      open[i].once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      open[i].close(1000);
    }),
  );
  return { closed: open.length, ms: performance.now() - started, unexpectedCloses };
}

process.on('message', (r: Request) => {
  const run = r.cmd === 'connect' ? connect(r)
    : r.cmd === 'join' ? join(r)
      : r.cmd === 'send' ? send(r)
        : r.cmd === 'arm' ? Promise.resolve((arm(r.marker as string), { armed: true }))
          : r.cmd === 'await' ? awaitArmed(r)
            : closeAll();
  run.then(
    (result) => process.send?.({ type: 'reply', id: r.id, ...result, unexpectedCloses }),
    (err: Error) => process.send?.({ type: 'reply', id: r.id, error: err.stack ?? String(err) }),
  ).finally(() => {
    if (r.cmd === 'close') process.exit(0);
  });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
