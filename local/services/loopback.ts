/** Starts a local service's server on a free port of 127.0.0.1 and resolves to that port. */
import type { AddressInfo, Server } from 'node:net';

export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}
