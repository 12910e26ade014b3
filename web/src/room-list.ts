/**
 * The rooms this connection has joined, as the server confirmed them (`joined` / `left` frames),
 * shown as a list and offered as targets in the "Send to" menu next to "Everyone".
 * Memberships belong to a connection, so the list empties when the connection closes.
 */
import { textElement } from './dom';

export class RoomList {
  private readonly rooms = new Set<string>();

  constructor(
    private readonly list: HTMLUListElement,
    private readonly target: HTMLSelectElement,
  ) {}

  add(room: string): void {
    this.rooms.add(room);
    this.render();
    this.target.value = room;
  }

  remove(room: string): void {
    this.rooms.delete(room);
    this.render();
  }

  clear(): void {
    this.rooms.clear();
    this.render();
  }

  /** The chosen room, or undefined for "Everyone". */
  selectedRoom(): string | undefined {
    return this.target.value === '' ? undefined : this.target.value;
  }

  private render(): void {
    const selected = this.target.value;
    const sorted = [...this.rooms].sort();
    this.list.replaceChildren(...sorted.map((room) => textElement('li', 'chip', `#${room}`)));
    const everyone = textElement('option', '', 'Everyone');
    everyone.value = '';
    const options = sorted.map((room) => {
      const option = textElement('option', '', `#${room}`);
      option.value = room;
      return option;
    });
    this.target.replaceChildren(everyone, ...options);
    this.target.value = this.rooms.has(selected) ? selected : '';
  }
}
