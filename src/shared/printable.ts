// Text a trainer sent (a failure reason, a worker's name), made safe to print on one line of a terminal; browser-safe.

/**
 * C0 and C1 controls, DEL, and the Unicode line separators and bidirectional overrides: what could move a
 * terminal's cursor, change its title or colours, start a fake line, or show text in another order than it is.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every such character written as an escape (`\n`, `\u001b`), so it prints as one inert line. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
