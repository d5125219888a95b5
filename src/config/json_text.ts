// Parses the JSON text of a file a person wrote (a study config, a schedule); a syntax error names its line and column.
import { DataError } from '../errors.js';

/** Line and column (both 1-based) of character `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const lines = text.slice(0, Math.max(0, Math.min(offset, text.length))).split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/**
 * Offset of the first character that makes `text` invalid JSON (text.length when it ends too early), or -1 when
 * it is valid. Needed because Node 20's JSON.parse gives no position for most errors ("Unexpected token '}', ... is
 * not valid JSON"). A plain scanner of the JSON grammar (RFC 8259), iterative so deep nesting cannot overflow.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = (): boolean => {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        ESCAPE.lastIndex = i;
        if (!ESCAPE.test(text)) return false;
        i = ESCAPE.lastIndex;
      } else if (text.charCodeAt(i) < 0x20) return false;
      else i++;
    }
    if (i >= text.length) return false;
    i++;
    return true;
  };
  // What each open container expects next: a value, a key, a comma or its end.
  const stack: ('{' | '[')[] = [];
  let want: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    ws();
    if (i >= text.length) return stack.length === 0 && want === 'after' ? -1 : text.length;
    const c = text[i]!;
    if (want === 'after') {
      if (stack.length === 0) return i; // something after the top-level value
      const top = stack[stack.length - 1]!;
      if (c === ',') {
        i++;
        want = top === '{' ? 'key' : 'value';
      } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
        i++;
        stack.pop();
      } else return i;
      continue;
    }
    if (want === 'key') {
      // An empty object was taken care of at its '{'; here a '}' would follow a comma.
      if (c !== '"' || !string()) return i;
      ws();
      if (text[i] !== ':') return i;
      i++;
      want = 'value';
      continue;
    }
    // want === 'value'
    if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      ws();
      if (text[i] === (c === '{' ? '}' : ']')) {
        i++;
        stack.pop();
        want = 'after';
      } else want = c === '{' ? 'key' : 'value';
      continue;
    }
    if (c === '"') {
      if (!string()) return i;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) return i;
      i = NUMBER.lastIndex;
    } else {
      const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
      if (!word) return i;
      i += word.length;
    }
    want = 'after';
  }
}

/** `scenario.model`, `tags[]`: where a container sits, from the open containers above it. */
function keyPath(frames: readonly { keys: Map<string, number> | null; name: string }[]): string {
  return frames.map((f) => (f.keys ? `.${f.name}` : '[]')).join('').replace(/^\./, '');
}

/**
 * The first key that an object of a *valid* JSON text repeats, or null. JSON.parse keeps the last of them without a
 * word, so a config edited by hand (a second "steps" pasted below the first) would silently run with the other value.
 * Keys compare after unescaping ("a" and "\\u0061" are one key). Iterative, like the scanner above.
 */
export function duplicateKey(text: string): { key: string; path: string; first: number; second: number } | null {
  // One frame per open container: for an object, its keys so far (-> offset) and the key whose value is open.
  const stack: { keys: Map<string, number> | null; name: string }[] = [];
  let wantKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      if (wantKey && top?.keys) {
        let key: string;
        try {
          key = JSON.parse(text.slice(start, i + 1)) as string;
        } catch {
          return null; // not valid JSON: the scanner's case, not this one's
        }
        const seen = top.keys.get(key);
        if (seen !== undefined) return { key, path: keyPath(stack.slice(0, -1)), first: seen, second: start };
        top.keys.set(key, start);
        top.name = key;
        wantKey = false;
      }
    } else if (c === '{') {
      stack.push({ keys: new Map(), name: '' });
      wantKey = true;
    } else if (c === '[') {
      stack.push({ keys: null, name: '' });
    } else if (c === '}' || c === ']') {
      stack.pop();
      wantKey = false;
    } else if (c === ',') {
      wantKey = stack[stack.length - 1]?.keys != null;
    } else if (c === ':') {
      wantKey = false;
    }
  }
  return null;
}

/** JSON.parse, with a syntax error reported as `file: is not valid JSON: line L, column C: <what the parser says>`. */
export function parseJsonFile(text: string, file: string): unknown {
  // Windows editors save UTF-8 with a byte-order mark: not JSON, yet not the writer's mistake (Node's require() skips it too).
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const offset = jsonErrorOffset(text);
    const { line, column } = lineColumn(text, offset < 0 ? text.length : offset);
    // V8 quotes the start of the text back ("..." is not valid JSON) or gives an offset: the line and column say it better.
    const reason = (err as Error).message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '').replace(/^Unexpected end of JSON input$/, 'the text ends too early');
    throw new DataError(file, `is not valid JSON: line ${line}, column ${column}: ${reason}`);
  }
  const twice = duplicateKey(text);
  if (twice) {
    const where = twice.path ? ` in ${twice.path}` : '';
    const [a, b] = [lineColumn(text, twice.first).line, lineColumn(text, twice.second).line];
    throw new DataError(file, `has the key "${twice.key}" twice${where} (lines ${a} and ${b}); JSON would keep only the second silently (fix: remove one of them)`);
  }
  return value;
}
