// Messages from the server and the dashboard quote commands and flags between backticks, as a terminal shows them;
// this splits such a sentence into its prose and its quoted parts, so the page can set the quotes as code.

export interface Span {
  text: string;
  code: boolean;
}

/**
 * `text` as alternating prose and code spans: each pair of backticks encloses code, and the backticks go. A backtick
 * left without a partner stays as it is, as does an empty pair (``), so no character of the message is ever lost.
 */
export function codeSpans(text: string): Span[] {
  const out: Span[] = [];
  let prose = '';
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('`', at);
    const close = open < 0 ? -1 : text.indexOf('`', open + 1);
    if (open < 0 || close < 0) break;
    if (close === open + 1) {
      prose += text.slice(at, close + 1);
    } else {
      prose += text.slice(at, open);
      if (prose) out.push({ text: prose, code: false });
      prose = '';
      out.push({ text: text.slice(open + 1, close), code: true });
    }
    at = close + 1;
  }
  prose += text.slice(at);
  if (prose) out.push({ text: prose, code: false });
  return out;
}
