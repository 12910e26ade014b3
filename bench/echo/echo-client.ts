/** Closed-loop echo clients: each keeps one frame in flight and times every round trip. */
import WebSocket from 'ws';

export interface EchoClient {
  /** Sends `count` frames one after another; returns each round trip in ms. */
  roundTrips(count: number, frame: string): Promise<number[]>;
  close(): void;
}

export function openEchoClient(url: string): Promise<EchoClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let pending: ((text: string) => void) | undefined;
    ws.on('message', (data: Buffer) => {
      const p = pending;
      pending = undefined;
      p?.(data.toString('utf8'));
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`echo client: handshake answered ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        async roundTrips(count, frame) {
          const out: number[] = [];
          for (let i = 0; i < count; i++) {
            const started = performance.now();
            const answer = await new Promise<string>((res, rej) => {
              const timer = setTimeout(() => rej(new Error('echo client: no answer within 10 s')), 10_000);
              pending = (text) => {
                clearTimeout(timer);
                res(text);
              };
              ws.send(frame);
            });
            if (answer !== frame) throw new Error(`echo client: expected the frame back, got ${answer.slice(0, 200)}`);
            out.push(performance.now() - started);
          }
          return out;
        },
        close: () => ws.close(1000),
      }),
    );
  });
}
