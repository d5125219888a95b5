// DOM helpers that only ever insert user data as text nodes: the dashboard never parses a string as markup.
import { codeSpans } from '../data/code_spans.js';

export type Child = Node | string | number | null | undefined | false;

/** Creates an element; string children become text nodes, so names and failure reasons can never become markup. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, v);
  append(node, ...children);
  return node;
}

export function append(node: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/**
 * Sets `node`'s content to `text`, its backtick-quoted commands as <code> elements (../data/code_spans.ts), all of it
 * text nodes: a message can quote a command without ever becoming markup.
 */
export function setMessage(node: Node, text: string): void {
  clear(node);
  append(node, ...messageNodes(text));
}

/** `text` as nodes: prose as text, each backtick-quoted part as a <code> element. */
export function messageNodes(text: string): Child[] {
  return codeSpans(text).map((s) => (s.code ? el('code', {}, s.text) : s.text));
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const n = document.getElementById(id);
  if (!n) throw new Error(`dashboard page is missing #${id}`);
  return n as T;
}

/** Shows a chart, or in its place a sentence saying why there is nothing to draw (never a blank box). */
export function showChartOrNote(box: HTMLElement, note: string | null): HTMLCanvasElement {
  let canvas = box.querySelector('canvas');
  if (!canvas) {
    canvas = document.createElement('canvas');
    // Screen readers get the chart's title; the numbers themselves are in the trial table and the CSV.
    const title = box.closest('section, .mini')?.querySelector('h2, h3')?.textContent ?? 'chart';
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', title.trim());
    box.appendChild(canvas);
  }
  let p = box.querySelector<HTMLElement>('.note');
  if (!p) {
    p = el('p', { class: 'note' });
    box.appendChild(p);
  }
  canvas.style.display = note ? 'none' : 'block';
  p.style.display = note ? 'flex' : 'none';
  setMessage(p, note ?? '');
  box.dataset.state = note ? 'note' : 'chart';
  return canvas;
}

/** Saves text as a file through a temporary object URL (works offline, no server round trip). */
export function downloadText(filename: string, text: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = el('a', { href: url, download: filename });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
