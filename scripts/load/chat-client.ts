/**
 * One authorized chat client of the load test: opens the WebSocket with its token, joins a room, and counts every
 * chat message it receives by text (so a lost or duplicated delivery shows up per client).
 */
import WebSocket from 'ws';

export class ChatClient {
  /** How many times each message text arrived. */
  readonly received = new Map<string, number>();
  /** Error frames the server sent (`{"type":"error"}`), and frames that were not JSON. */
  readonly errors: string[] = [];
  /** Set when the socket closed before the test closed it. */
  unexpectedClose?: string;
  private socket?: WebSocket;
  private closing = false;
  private joinWaiter?: { room: string; resolve: () => void; reject: (err: Error) => void };

  constructor(readonly user: string, readonly room: string) {}

  /** Opens the connection (`?token=`); rejects with the handshake status when it is refused. */
  open(url: string, token: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, { handshakeTimeout: timeoutMs });
      this.socket = socket;
      socket.once('open', () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve();
      });
      socket.once('unexpected-response', (_req, res) => {
        reject(new Error(`handshake refused with HTTP ${res.statusCode}`));
        socket.terminate();
      });
      socket.once('error', reject);
      socket.on('message', (data, isBinary) => this.onFrame(isBinary ? '<binary>' : data.toString()));
      socket.on('close', (code, reason) => {
        if (!this.closing) this.unexpectedClose = `${code} ${reason.toString()}`;
        this.joinWaiter?.reject(new Error(`closed before joining (${code})`));
      });
    });
  }

  /** Sends a join and resolves on `{"type":"joined","room":…}`. */
  join(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no "joined" for ${this.room} within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.joinWaiter = undefined;
        if (err) reject(err);
        else resolve();
      };
      this.joinWaiter = { room: this.room, resolve: () => done(), reject: done };
      this.send({ action: 'join', data: { room: this.room } });
    });
  }

  /** Sends a chat message to `room`, or to every connection when `room` is undefined. */
  sendMessage(text: string, room?: string): void {
    this.send({ action: 'sendmessage', data: room === undefined ? { text } : { room, text } });
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Closes normally and resolves once closed (or after `timeoutMs`, terminating the socket). */
  close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000);
    });
  }

  private send(frame: unknown): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private onFrame(text: string): void {
    let frame: { type?: string; room?: string; text?: string; message?: string };
    try {
      frame = JSON.parse(text);
    } catch {
      this.errors.push(`not JSON: ${text.slice(0, 200)}`);
      return;
    }
    if (frame.type === 'message' && typeof frame.text === 'string') {
      this.received.set(frame.text, (this.received.get(frame.text) ?? 0) + 1);
    } else if (frame.type === 'joined' && this.joinWaiter && frame.room === this.joinWaiter.room) {
      this.joinWaiter.resolve();
    } else if (frame.type === 'error' || frame.message !== undefined) {
      this.errors.push(frame.message ?? text.slice(0, 200));
      this.joinWaiter?.reject(new Error(`error frame while joining: ${frame.message ?? text}`));
    }
  }
}
