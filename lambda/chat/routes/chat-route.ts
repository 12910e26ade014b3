/**
 * What the chat routes share: read the event, parse the `data` of the frame for this route (the action is the
 * route's own, so any route selection expression works), run the command, and turn every
 * failure into an error frame to the sender. A bad frame changes nothing; an unavailable table gives the
 * sender an error frame instead of API Gateway's "Internal server error".
 */
import type { ConnectionStore } from '../../runtime';
import { Clock } from '../../runtime/clock';
import { Logger, describeError } from '../../runtime/log';
import { MessageTooLargeError, type Messenger } from '../../runtime';
import { ChatAction, ChatCommand, frames, parseChatData } from '../protocol';
import { ProxyResult, readEvent } from '../../runtime/websocket-event';

export interface ChatRouteDeps {
  readonly store: ConnectionStore;
  readonly messenger: Pick<Messenger, 'post' | 'fanOut'>;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface Sender {
  readonly connectionId: string;
  readonly principalId: string | undefined;
}

/** A failure the sender should read as it is (not an infrastructure failure). */
export class RefusedCommand extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedCommand';
  }
}

export function createChatRoute<A extends ChatAction>(
  action: A,
  deps: ChatRouteDeps,
  run: (command: Extract<ChatCommand, { action: A }>, sender: Sender, log: Logger) => Promise<void>,
): (event: unknown) => Promise<ProxyResult> {
  return async (event) => {
    const facts = readEvent(event);
    const log = deps.log.child({ route: action, connectionId: facts.connectionId });
    if (!facts.connectionId) {
      log.error('frame_ignored', { reason: 'event has no requestContext.connectionId' });
      return { statusCode: 400 };
    }
    const reply = (message: string) => deps.messenger.post(facts.connectionId!, frames.error(message));
    // The command is this route's, whichever route selection expression brought the message here: only `data` is read.
    const parsed = parseChatData(action, facts.body);
    if (!parsed.ok) {
      log.info('frame_refused', { reason: parsed.error });
      await reply(parsed.error);
      return { statusCode: 400 };
    }
    try {
      await run(parsed.value, { connectionId: facts.connectionId, principalId: facts.principalId }, log);
      return { statusCode: 200 };
    } catch (err) {
      if (err instanceof RefusedCommand || err instanceof MessageTooLargeError) {
        log.info('command_refused', { reason: err.message });
        await reply(err.message);
        return { statusCode: 400 };
      }
      log.error('command_failed', describeError(err));
      await reply(`the "${action}" request could not be completed because the service is temporarily unavailable; try again`);
      return { statusCode: 500 };
    }
  };
}

/** The sender's user id: the authorizer's principalId, else the one recorded at `$connect`. */
export async function senderUserId(store: Pick<ConnectionStore, 'getConnection'>, sender: Sender): Promise<string> {
  if (sender.principalId) return sender.principalId;
  const record = await store.getConnection(sender.connectionId);
  if (!record) throw new RefusedCommand('this connection is not registered (it may have expired); reconnect and try again');
  return record.userId;
}
