/**
 * An HTTP proxy in front of a local DynamoDB that answers the first N BatchWriteItem calls the way DynamoDB does
 * under load: nothing written, every request returned in `UnprocessedItems`. Everything else is forwarded.
 */
import { createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';

export interface UnprocessedItemsProxy {
  readonly endpoint: string;
  /** BatchWriteItem calls answered with UnprocessedItems so far. */
  readonly throttledBatches: number;
  stop(): Promise<void>;
}

export async function startUnprocessedItemsProxy(target: string, throttleFirst: number): Promise<UnprocessedItemsProxy> {
  const upstream = new URL(target);
  let throttled = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (String(req.headers['x-amz-target']).endsWith('.BatchWriteItem') && throttled < throttleFirst) {
      throttled++;
      const { RequestItems } = JSON.parse(body.toString('utf8')) as { RequestItems: unknown };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ UnprocessedItems: RequestItems }));
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get throttledBatches() {
      return throttled;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
