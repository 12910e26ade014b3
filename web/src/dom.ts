/** Small DOM helpers. Text is only ever set through `textContent`, never parsed as HTML. */

/** The element with `id`, checked to be of `type`; throws if the page's markup does not match. */
export function requireElement<T extends HTMLElement>(id: string, type: { new (): T; readonly prototype: T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`index.html has no <${type.name}> with id "${id}"`);
  }
  return element;
}

/** A new `tag` element with `className` and, if given, `text` as its text. */
export function textElement<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}
