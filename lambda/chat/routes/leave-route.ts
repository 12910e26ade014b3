/** `leave`: removes the membership, then answers `{"type":"left","room":...}`; a non-member gets an error. */
import { frames } from '../protocol';
import { ChatRouteDeps, RefusedCommand, createChatRoute } from './chat-route';

export function createLeaveHandler(deps: ChatRouteDeps) {
  return createChatRoute('leave', deps, async ({ room }, sender, log) => {
    const wasMember = await deps.store.leaveRoom(sender.connectionId, room);
    if (!wasMember) throw new RefusedCommand(`you are not a member of room ${JSON.stringify(room)}, so there is nothing to leave`);
    log.info('left', { room });
    await deps.messenger.post(sender.connectionId, frames.left(room));
  });
}
