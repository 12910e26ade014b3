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
