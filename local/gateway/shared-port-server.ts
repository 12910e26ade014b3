/**
 * One TCP port serving both plain HTTP and HTTPS: the first byte of a connection decides (0x16 is a TLS handshake
 * record). So `ws://127.0.0.1:PORT/stage`, `http://127.0.0.1:PORT/stage/@connections/...` and the handlers'
 * `https://{domainName}/{stage}/@connections/...` (spec §9.6) all reach the same gateway.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

export interface TlsIdentity {
  readonly key: string;
  readonly cert: string;
}

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

/** A socket that sends nothing for this long is dropped (half-open or idle TCP connections). */
const FIRST_BYTE_TIMEOUT_MS = 15_000;
/** Incomplete HTTP request headers are dropped after this long. */
const HEADERS_TIMEOUT_MS = 15_000;
/**
 * An idle keep-alive HTTP(S) socket is kept this long between requests (Node's default is 5 s). Handlers' AWS SDK
 * clients keep their `@connections` sockets for reuse; a server that closes them sooner races the next post on
 * them (ECONNRESET / socket hang up, lost posts under load). 65 s is the usual choice for servers behind idle
 * timeouts of 60 s; Node announces it as `Keep-Alive: timeout=65`, and Node's agent then drops idle sockets 1 s
 * before that.
 *
 * headersTimeout stays at 15 s: since Node 18 it runs only while a request's headers are arriving, not while a
 * kept-alive socket waits for its next request, so it need not exceed keepAliveTimeout (the old advice) and the
 * slow-header protection is unchanged.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export class SharedPortServer {
  private readonly tcp: net.Server;
  private readonly plain: http.Server;
  private readonly secure?: https.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(onRequest: RequestHandler, onUpgrade: UpgradeHandler, tls: TlsIdentity | undefined, onError: (message: string) => void) {
    this.plain = http.createServer(onRequest);
    this.plain.on('upgrade', onUpgrade);
    this.plain.headersTimeout = HEADERS_TIMEOUT_MS;
    this.plain.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.plain.requestTimeout = HEADERS_TIMEOUT_MS * 2;
    if (tls) {
      this.secure = https.createServer({ key: tls.key, cert: tls.cert }, onRequest);
      this.secure.on('upgrade', onUpgrade);
      this.secure.headersTimeout = HEADERS_TIMEOUT_MS;
      this.secure.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      this.secure.requestTimeout = HEADERS_TIMEOUT_MS * 2;
      this.secure.on('tlsClientError', (err) => onError(`TLS client error: ${err.message}`));
    }
    this.tcp = net.createServer((socket) => this.dispatch(socket));
    this.tcp.on('error', (err) => onError(`server error: ${err.message}`));
  }

  private dispatch(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const dropSilent = (): void => {
      socket.destroy();
    };
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, dropSilent);
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.off('timeout', dropSilent);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x16 && this.secure) this.secure.emit('connection', socket);
      else this.plain.emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  }

  /** Listens on 127.0.0.1 only; resolves the bound port (useful with port 0). */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.tcp.once('error', onError);
      this.tcp.listen(port, '127.0.0.1', () => {
        this.tcp.off('error', onError);
        resolve((this.tcp.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops listening and destroys every socket still open. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.tcp.close(() => resolve());
      this.plain.closeAllConnections();
      this.secure?.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
  }
}
