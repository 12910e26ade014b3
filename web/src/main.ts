/**
 * Wires the page (index.html) to the chat: sign in, connect, rooms, sending, and the conversation.
 * Each part lives in its own module; this file only connects them to the markup.
 */
import { ChatSocket } from './chat-socket';
import { ConnectionState, describeConnectionState } from './connection-state';
import { fetchDevToken } from './dev-token';
import { requireElement } from './dom';
import { defaultSocketUrl, socketUrlWithToken } from './endpoint';
import { MessageLog } from './message-log';
import { ServerFrame, joinFrame, leaveFrame, sendMessageFrame } from './protocol';
import { RoomList } from './room-list';

const tokenForm = requireElement('token-form', HTMLFormElement);
const userName = requireElement('user-name', HTMLInputElement);
const tokenField = requireElement('token', HTMLTextAreaElement);
const tokenNote = requireElement('token-note', HTMLParagraphElement);
const connectForm = requireElement('connect-form', HTMLFormElement);
const socketUrl = requireElement('socket-url', HTMLInputElement);
const connectButton = requireElement('connect-button', HTMLButtonElement);
const disconnectButton = requireElement('disconnect-button', HTMLButtonElement);
const connectionState = requireElement('connection-state', HTMLOutputElement);
const roomForm = requireElement('room-form', HTMLFormElement);
const roomName = requireElement('room-name', HTMLInputElement);
const leaveButton = requireElement('leave-button', HTMLButtonElement);
const sendForm = requireElement('send-form', HTMLFormElement);
const messageText = requireElement('message-text', HTMLInputElement);
/** Buttons that need an open connection. */
const openOnlyButtons = [
  requireElement('join-button', HTMLButtonElement),
  leaveButton,
  requireElement('send-button', HTMLButtonElement),
  disconnectButton,
];

const log = new MessageLog(requireElement('message-log', HTMLOListElement));
const rooms = new RoomList(requireElement('joined-rooms', HTMLUListElement), requireElement('send-target', HTMLSelectElement));
let openedSinceConnect = false;

const chat = new ChatSocket({ onState: showState, onFrame: showFrame });

const page = new URL(window.location.href);
socketUrl.value = defaultSocketUrl(page);
userName.value = page.searchParams.get('user') ?? '';

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void getLocalToken();
});

connectForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void connect();
});

disconnectButton.addEventListener('click', () => chat.disconnect());

roomForm.addEventListener('submit', (event) => {
  event.preventDefault();
  chat.send(joinFrame(roomName.value.trim()));
});

leaveButton.addEventListener('click', () => {
  chat.send(leaveFrame(roomName.value.trim()));
});

sendForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (chat.send(sendMessageFrame(messageText.value, rooms.selectedRoom()))) messageText.value = '';
});

/** Fills the token field from the dev token endpoint of the page's own origin. */
async function getLocalToken(): Promise<boolean> {
  const user = userName.value.trim();
  if (user === '') {
    tokenNote.textContent = 'Type a user name first, or paste a token.';
    return false;
  }
  try {
    tokenField.value = await fetchDevToken(window.location.origin, user);
    tokenNote.textContent = `Local token for ${user} ready.`;
    return true;
  } catch (error) {
    tokenNote.textContent = `No local token (${errorText(error)}). Paste a token instead.`;
    return false;
  }
}

async function connect(): Promise<void> {
  if (tokenField.value.trim() === '' && !(await getLocalToken())) return;
  let url: string;
  try {
    url = socketUrlWithToken(socketUrl.value.trim(), tokenField.value.trim());
  } catch (error) {
    log.addNotice(`Cannot connect: ${errorText(error)}`);
    return;
  }
  openedSinceConnect = false;
  chat.connect(url);
}

function showState(state: ConnectionState): void {
  connectionState.textContent = describeConnectionState(state);
  connectionState.dataset.state = state.phase;
  const open = state.phase === 'open';
  for (const button of openOnlyButtons) button.disabled = !open;
  connectButton.disabled = state.phase === 'connecting';
  if (open) {
    openedSinceConnect = true;
    connectButton.textContent = 'Reconnect';
    log.addNotice('Connected.');
  }
  if (state.phase === 'closed') {
    rooms.clear();
    connectButton.textContent = 'Reconnect';
    log.addNotice(`Connection ${describeConnectionState(state)}.`);
    if (!openedSinceConnect) {
      log.addNotice('The handshake failed: check the URL and the token (browsers do not show the 401/403 status).');
    }
  }
}

function showFrame(frame: ServerFrame): void {
  switch (frame.kind) {
    case 'joined':
      rooms.add(frame.room);
      log.addNotice(`Joined #${frame.room}.`);
      return;
    case 'left':
      rooms.remove(frame.room);
      log.addNotice(`Left #${frame.room}.`);
      return;
    case 'message':
      log.addMessage(frame);
      return;
    case 'error':
      log.addServerError(frame.message);
      return;
    case 'unrecognised':
      log.addNotice(`Unrecognised frame from the server: ${frame.raw}`);
      return;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
