/**
 * The conversation: chat messages (who, room, text, time), the server's error frames, and notices
 * from the page itself. Other users' text reaches the DOM only through `textContent`.
 */
import { textElement } from './dom';

export class MessageLog {
  constructor(private readonly list: HTMLOListElement) {}

  /** A chat message; `room` null means it was sent to everyone. */
  addMessage(message: { readonly from: string; readonly room: string | null; readonly text: string; readonly at: number }): void {
    const item = textElement('li', 'entry entry--message');
    item.append(
      timeElement(new Date(message.at)),
      textElement('span', 'entry__room', message.room === null ? 'everyone' : `#${message.room}`),
      textElement('strong', 'entry__from', message.from),
      textElement('span', 'entry__text', message.text),
    );
    this.append(item);
  }

  /** An error frame from the server, shown as the server worded it. */
  addServerError(message: string): void {
    const item = textElement('li', 'entry entry--error');
    item.append(timeElement(new Date()), textElement('span', 'entry__label', 'Server error'), textElement('span', 'entry__text', message));
    this.append(item);
  }

  /** Something the page itself reports (joined a room, connection closed, ...). */
  addNotice(text: string): void {
    const item = textElement('li', 'entry entry--notice');
    item.append(timeElement(new Date()), textElement('span', 'entry__text', text));
    this.append(item);
  }

  private append(item: HTMLLIElement): void {
    this.list.append(item);
    item.scrollIntoView({ block: 'nearest' });
  }
}

function timeElement(at: Date): HTMLTimeElement {
  const time = textElement('time', 'entry__time', at.toLocaleTimeString());
  time.dateTime = at.toISOString();
  return time;
}
