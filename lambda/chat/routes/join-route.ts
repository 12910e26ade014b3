/** `join`: records the membership, then answers `{"type":"joined","room":...}` (design.md protocol table). */
import { epochSeconds } from '../../runtime/clock';
import { frames } from '../protocol';
import { ChatRouteDeps, createChatRoute, senderUserId } from './chat-route';

export interface JoinRouteDeps extends ChatRouteDeps {
  readonly connectionTtlSeconds: number;
}

export function createJoinHandler(deps: JoinRouteDeps) {
  return createChatRoute('join', deps, async ({ room }, sender, log) => {
    const userId = await senderUserId(deps.store, sender);
    const now = deps.clock();
    await deps.store.joinRoom({
      connectionId: sender.connectionId,
      room,
      userId,
      joinedAt: now,
      expiresAt: epochSeconds(now) + deps.connectionTtlSeconds,
    });
    log.info('joined', { room });
    await deps.messenger.post(sender.connectionId, frames.joined(room));
  });
}
