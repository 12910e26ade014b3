/**
 * One open WebSocket connection: its facts, activity clock, idle / maximum-duration timers (spec §2.5),
 * and the close status its `$disconnect` event reports.
 */
import type { WebSocket } from 'ws';
import type { WebSocketApiModel } from '../model';
import type { ConnectionFacts } from './events';

export interface CloseStatus {
  readonly code: number;
  readonly reason: string;
}

/** Server-side closes (idle, 2 h cap, DeleteConnection) use 1001 "Going away" (spec §2.5; DeleteConnection's code is [UNCONFIRMED]). */
export const GOING_AWAY: CloseStatus = { code: 1001, reason: 'Going away' };

/** API Gateway's frame limit: a single frame over 32 KB closes with 1009 even when the message would fit in 128 KB. */
export const MAX_FRAME_BYTES = 32 * 1024;

/** The parts of `ws`'s frame parser (lib/receiver.js, ws 8) the frame limit hooks into. */
interface FrameReceiver {
  _opcode: number;
  _payloadLength: number;
  haveLength(cb: (err?: Error) => void): unknown;
  createError(ctor: ErrorConstructor, message: string, prefix: boolean, statusCode: number, errorCode: string): Error;
}

/**
 * Enforces a per-frame payload limit on a server socket: `ws` itself only limits the whole (reassembled) message
 * with `maxPayload`. A data frame longer than `maxFrameBytes` fails as an oversize message does (close 1009,
 * error code WS_ERR_UNSUPPORTED_MESSAGE_LENGTH). Returns false when `ws`'s parser lacks the hook (not enforced).
 */
export function limitFrameSize(socket: WebSocket, maxFrameBytes: number = MAX_FRAME_BYTES): boolean {
  const receiver = (socket as unknown as { _receiver?: FrameReceiver })._receiver;
  if (!receiver || typeof receiver.haveLength !== 'function' || typeof receiver.createError !== 'function') return false;
  const haveLength = receiver.haveLength;
  receiver.haveLength = function (this: FrameReceiver, cb: (err?: Error) => void): unknown {
    if (this._opcode < 0x08 && this._payloadLength > maxFrameBytes) {
      return cb(this.createError(RangeError, `Frame of ${this._payloadLength} bytes exceeds the ${maxFrameBytes}-byte frame limit`, false, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
    }
    return haveLength.call(this, cb);
  };
  return true;
}

export interface ConnectionTimeouts {
  readonly idleTimeoutMs: number;
  readonly maxDurationMs: number;
}

export class Connection {
  private lastActive: number;
  private idleTimer?: NodeJS.Timeout;
  private readonly maxTimer: NodeJS.Timeout;
  private serverClose?: CloseStatus;
  private closed = false;

  constructor(
    readonly socket: WebSocket,
    readonly api: WebSocketApiModel,
    readonly facts: ConnectionFacts,
    readonly authorizer: Record<string, unknown> | undefined,
    private readonly timeouts: ConnectionTimeouts,
  ) {
    this.lastActive = facts.connectedAt;
    limitFrameSize(socket);
    this.resetIdle();
    this.maxTimer = setTimeout(() => this.closeFromServer(GOING_AWAY), timeouts.maxDurationMs);
    this.maxTimer.unref();
  }

  get id(): string {
    return this.facts.connectionId;
  }

  get stage(): string {
    return this.facts.stage;
  }

  get lastActiveAt(): number {
    return this.lastActive;
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  /** A data message in either direction (never a ping) resets the idle timer (spec §2.5). */
  markActive(): void {
    this.lastActive = Date.now();
    this.resetIdle();
  }

  private resetIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.closeFromServer(GOING_AWAY), this.timeouts.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** Sends a text frame; false when the socket is no longer open. */
  sendText(text: string | Buffer): boolean {
    if (!this.isOpen) return false;
    this.socket.send(text, { binary: false });
    this.markActive();
    return true;
  }

  /** Closes from the server side with `status`, which `$disconnect` then reports. */
  closeFromServer(status: CloseStatus): void {
    if (this.closed) return;
    this.serverClose ??= status;
    this.socket.close(status.code, status.reason);
  }

  /** Records a close that `ws` itself started (e.g. 1009 past maxPayload), so `$disconnect` reports it. */
  recordServerClose(status: CloseStatus): void {
    this.serverClose ??= status;
  }

  /**
   * Marks the connection closed and works out the status `$disconnect` reports (spec §2.5, §4.3): the server's own
   * close status when it closed; otherwise the client's code and reason, with 1005 "Client-side close frame status
   * not set" when the client sent no code. A dropped TCP connection (1006 in `ws`) reports 1006 with an empty
   * reason: [UNCONFIRMED].
   */
  finish(clientCode: number, clientReason: Buffer): CloseStatus {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    clearTimeout(this.maxTimer);
    if (this.serverClose) return this.serverClose;
    if (clientCode === 1005) return { code: 1005, reason: 'Client-side close frame status not set' };
    return { code: clientCode, reason: clientReason.toString('utf8') };
  }
}
