// Sends a JSON answer with one long array in slices, so the event loop serves other requests while it is written.
import type { Response } from 'express';
import { SLICE_ITEMS, yieldToEventLoop } from '../event_loop.js';

/**
 * Text per slice where items are large: 200 trials with 60-point curves are 4 MB of JSON, 31-95 ms of stringify in
 * one block.
 */
export const SLICE_CHARS = 1 << 20;

/**
 * Answers 200 with `{...head, [key]: items}` (the array last), serialized a slice at a time with the event loop let
 * in between, and waiting whenever the client (or the compressor) has not taken the last slice yet. The first slice
 * is one item; each next one as many as make about SLICE_CHARS of text at the last one's size, at most SLICE_ITEMS.
 * The text is what `res.json` would send, keys reordered. Stops quietly if the client goes away.
 */
export async function sendJsonSlices(res: Response, head: Record<string, unknown>, key: string, items: readonly unknown[]): Promise<void> {
  let resume: (() => void) | undefined;
  let gone = false;
  const wake = () => resume?.();
  // One listener of each for the whole answer: the compressor hands 'drain' listeners on to its own stream, where
  // removing them from the response cannot reach them, so one per wait would pile up.
  res.on('drain', wake);
  res.once('close', () => {
    gone = true;
    wake();
  });
  const opening = JSON.stringify(head);
  res.status(200).type('application/json');
  let pending = `${opening.slice(0, -1)}${opening === '{}' ? '' : ','}${JSON.stringify(key)}:[`;
  let n = 1;
  for (let i = 0; i < items.length; ) {
    const slice = JSON.stringify(items.slice(i, i + n));
    pending += (i > 0 ? ',' : '') + slice.slice(1, -1);
    i += n;
    n = Math.max(1, Math.min(SLICE_ITEMS, Math.floor((n * SLICE_CHARS) / slice.length)));
    if (gone) return;
    if (!res.write(pending)) await new Promise<void>((r) => (resume = r));
    resume = undefined;
    if (gone) return;
    pending = '';
    await yieldToEventLoop();
  }
  res.end(`${pending}]}`);
}
