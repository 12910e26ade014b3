/**
 * One open WebSocket connection: its facts, activity clock, idle / maximum-duration timers (spec §2.5),
 * and the close status its `$disconnect` event reports.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { WebSocketApiModel } from '../model';
import type { ConnectionFacts } from './events';

export interface CloseStatus {
  readonly code: number;
  readonly reason: string;
}

/** Server-side closes (idle, 2 h cap, DeleteConnection) use 1001 "Going away" (spec §2.5; DeleteConnection's code is [UNCONFIRMED]). */
export const GOING_AWAY: CloseStatus = { code: 1001, reason: 'Going away' };

/** The close status of a frame or message over the limits (the reason text is [UNCONFIRMED]). */
export const MESSAGE_TOO_BIG: CloseStatus = { code: 1009, reason: 'Message too big' };

/** API Gateway's frame limit: a single frame over 32 KB closes with 1009 even when the message would fit in 128 KB. */
export const MAX_FRAME_BYTES = 32 * 1024;

/**
 * Per-frame payload accounting over the raw bytes a client sends, because `ws` only limits the whole (reassembled)
 * message (`maxPayload`) and offers no per-frame hook. Fed every chunk of the connection's byte stream (after the
 * upgrade), it follows the RFC 6455 frame headers (2 bytes, then a 16- or 64-bit extended length, then the 4-byte
 * mask of client frames) and skips each payload; the first data frame (text, binary or continuation) longer than
 * `maxFrameBytes` calls `onOversize` once, and the guard stops reading.
 */
export class FrameSizeGuard {
  private readonly header = Buffer.alloc(14);
  private have = 0;
  private need = 2;
  /** Payload bytes of the current frame not seen yet. */
  private remaining = 0;
  private tripped = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onOversize: (payloadBytes: number) => void,
  ) {}

  /** False once an oversize frame was seen. */
  write(chunk: Buffer): boolean {
    let at = 0;
    while (!this.tripped && at < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - at);
        this.remaining -= skip;
        at += skip;
        continue;
      }
      const take = Math.min(this.need - this.have, chunk.length - at);
      chunk.copy(this.header, this.have, at, at + take);
      this.have += take;
      at += take;
      if (this.have < this.need) break;
      if (this.need === 2) {
        // The first two bytes give the length encoding and whether a mask follows: the full header size.
        const len7 = this.header[1] & 0x7f;
        this.need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.header[1] & 0x80 ? 4 : 0);
        if (this.have < this.need) continue;
      }
      const len7 = this.header[1] & 0x7f;
      const length = len7 === 126 ? this.header.readUInt16BE(2) : len7 === 127 ? Number(this.header.readBigUInt64BE(2)) : len7;
      const opcode = this.header[0] & 0x0f;
      this.have = 0;
      this.need = 2;
      if (opcode < 0x08 && length > this.maxFrameBytes) {
        this.tripped = true;
        this.onOversize(length);
        return false;
      }
      this.remaining = length;
    }
    return !this.tripped;
  }
}

/**
 * Enforces API Gateway's frame limit on a connection: `raw` is the stream `ws` reads the connection from (the TCP or
 * TLS socket given to `handleUpgrade`), watched with a listener placed before `ws`'s own so that an oversize frame
 * is seen before `ws` can deliver it. Uses only the stream's public events, nothing of `ws`'s internals.
 */
export function limitFrameSize(raw: Duplex, onOversize: (payloadBytes: number) => void, maxFrameBytes: number = MAX_FRAME_BYTES): void {
  const guard = new FrameSizeGuard(maxFrameBytes, onOversize);
  const watch = (chunk: Buffer | string): void => {
    if (!guard.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)) raw.off('data', watch);
  };
  raw.prependListener('data', watch);
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
    this.resetIdle();
    this.maxTimer = setTimeout(() => this.closeFromServer(GOING_AWAY), timeouts.maxDurationMs);
    this.maxTimer.unref();
  }

  /**
   * Closes with 1009 when the client sends a data frame over 32 KB (API Gateway's frame limit), even when the message
   * would fit in 128 KB. `raw` is the stream `ws` reads this connection from.
   */
  guardFrames(raw: Duplex): void {
    limitFrameSize(raw, () => this.closeFromServer(MESSAGE_TOO_BIG));
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
