// Long synchronous work split into slices, so the server's event loop answers between them.

/**
 * Items handled between two turns of the event loop wherever a long list is worked through on the server (a store's
 * listing, the optimizer's first sync, a sliced answer): a few ms each. 100,000 trials read at once held the server
 * for seconds; smaller is fairer to other requests: serving a 20,000-trial SQLite study on 2 cores, /api/health
 * waited up to 2.2 s during the first ask with slices of 2,000, 1.2 s with 500, 0.3-0.4 s with 200.
 */
export const SLICE_ITEMS = 200;

/** Resolves after pending I/O callbacks have run (setImmediate): the point where a long loop lets others in. */
export const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Rows read between two turns of the event loop where a listing reads other rows with its items (a trial's curve
 * points): a 2,000-trial SQLite study with 60 reports per trial, read 200 trials (12,000 points) per page, held the
 * loop for 100-280 ms a page; 32 trials (1,920 points) 7-20 ms.
 */
export const SLICE_ROWS = 2000;

/** One page of a listing: its items, the cursor (number or revision) of the last one, and the other rows read with them. */
export interface Page<T> {
  items: T[];
  last: number | undefined;
  rows?: number;
}

/**
 * A listing read a page at a time: `page(after, n)` gives at most `n` items after the cursor `after`; pages are read
 * until a short one, with the event loop let in between (a store that reads synchronously blocks while it reads).
 * The first page is `first` items: 1 for a listing whose items bring other rows (nothing is known yet of how many),
 * `size` for one whose items come alone (the usual listing of what changed: one read). Each next page is as many as
 * make about SLICE_ROWS rows (items and their other rows) at the last page's mix, at most `size`.
 */
export async function collectPages<T>(after: number, size: number, first: number, page: (after: number, n: number) => Page<T> | Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  for (let cursor = after, n = first; ;) {
    const { items, last, rows = 0 } = await page(cursor, n);
    for (const t of items) out.push(t);
    if (items.length < n || last === undefined) return out;
    cursor = last;
    n = Math.max(1, Math.min(size, Math.floor((SLICE_ROWS * items.length) / (items.length + rows))));
    await yieldToEventLoop();
  }
}

/** `items.map(fn)`, SLICE_ITEMS at a time with the event loop let in between (never for a list of one slice). */
export async function mapInSlices<T, U>(items: readonly T[], fn: (item: T) => U): Promise<U[]> {
  const out: U[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SLICE_ITEMS === 0) await yieldToEventLoop();
    out[i] = fn(items[i]!);
  }
  return out;
}
