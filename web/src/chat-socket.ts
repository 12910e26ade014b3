/**
 * One WebSocket to the chat at a time: opens it, reports its state, decodes incoming frames and
 * encodes outgoing ones. Connecting again closes the previous socket first (without reporting it).
 */
import { ConnectionState, displayUrl } from './connection-state';
import { ClientFrame, ServerFrame, parseServerFrame } from './protocol';

export interface ChatSocketListener {
  onState(state: ConnectionState): void;
  onFrame(frame: ServerFrame): void;
}

/** Close code the page uses when the user presses Disconnect. */
export const NORMAL_CLOSURE = 1000;

export class ChatSocket {
  private socket: WebSocket | undefined;

  constructor(private readonly listener: ChatSocketListener) {}

  /** `url` must already carry the token (see `socketUrlWithToken`). */
  connect(url: string): void {
    this.abandonCurrent();
    const shownUrl = displayUrl(url);
    const socket = new WebSocket(url);
    this.socket = socket;
    this.listener.onState({ phase: 'connecting', url: shownUrl });
    socket.addEventListener('open', () => {
      if (this.socket === socket) this.listener.onState({ phase: 'open', url: shownUrl });
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (this.socket !== socket) return;
      const raw = typeof event.data === 'string' ? event.data : '[binary frame]';
      this.listener.onFrame(parseServerFrame(raw));
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.listener.onState({ phase: 'closed', code: event.code, reason: event.reason, wasClean: event.wasClean });
    });
  }

  /** Closes the current socket with code 1000; its close event then reports the final state. */
  disconnect(): void {
    this.socket?.close(NORMAL_CLOSURE, 'user disconnected');
  }

  /** Closes the current socket without reporting it, before a new one replaces it. */
  private abandonCurrent(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(NORMAL_CLOSURE, 'reconnecting');
  }

  /** False when there is no open socket to send on. */
  send(frame: ClientFrame): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }
}
