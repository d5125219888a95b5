// Long synchronous work split into slices, so the server's event loop answers between them.

/** Resolves after pending I/O callbacks have run (setImmediate): the point where a long loop lets others in. */
export const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
