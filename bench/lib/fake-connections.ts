/** A minimal `@connections` endpoint for handlers run outside the emulator: every POST to a known stage gets 200. */
import { createServer } from 'http';
import type { AddressInfo } from 'net';

export interface FakeConnections {
  /** CALLBACK_URL: `http://127.0.0.1:{port}/{stage}`. */
  readonly callbackUrl: string;
  /** POSTs answered so far. */
  posts(): number;
  stop(): Promise<void>;
}

export async function startFakeConnections(stage = 'prod'): Promise<FakeConnections> {
  let posts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const ok = req.method === 'POST' && req.url?.startsWith(`/${stage}/@connections/`);
      if (ok) posts++;
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' }).end(ok ? '' : '{"message":"Not Found"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    callbackUrl: `http://127.0.0.1:${port}/${stage}`,
    posts: () => posts,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
