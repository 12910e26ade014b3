/**
 * `sendmessage`: to a room (every member, sender included; a sender who is not a member gets an error) or,
 * without a room, to every connection with `"room":null` (design.md protocol table).
 * Recipients are read page by page and posted to with bounded concurrency; stale ones are removed on 410.
 */
import { frames } from '../protocol';
import { FanOutCounts } from '../../runtime/messenger';
import { ChatRouteDeps, RefusedCommand, createChatRoute, senderUserId } from './chat-route';

export interface SendMessageDeps extends ChatRouteDeps {
  /**
   * Sends the frame to a room (`null`: every connection) through sharded delivery: directly up to the threshold,
   * else as an enqueued delivery job. @default - the messenger posts to every recipient itself
   */
  readonly deliver?: (room: string | null, frame: string) => Promise<FanOutCounts>;
}

async function* connectionIds<T extends { connectionId: string }>(pages: AsyncIterable<T[]>): AsyncGenerator<string[]> {
  for await (const page of pages) yield page.map((item) => item.connectionId);
}

export function createSendMessageHandler(deps: SendMessageDeps) {
  return createChatRoute('sendmessage', deps, async ({ room, text }, sender, log) => {
    const from = await senderUserId(deps.store, sender);
    if (room !== null && !(await deps.store.getMembership(sender.connectionId, room))) {
      throw new RefusedCommand(
        `you are not a member of room ${JSON.stringify(room)}; send {"action":"join","data":{"room":${JSON.stringify(room)}}} first`,
      );
    }
    const frame = frames.message({ room, from, text, at: deps.clock() });
    if (deps.deliver) {
      log.info('message_sent', { room, ...(await deps.deliver(room, frame)) });
      return;
    }
    const targets = room === null ? connectionIds(deps.store.connections()) : connectionIds(deps.store.roomMembers(room));
    const counts = await deps.messenger.fanOut(targets, frame);
    log.info('message_sent', { room, ...counts });
  });
}
