// Stopping a server without cutting its answers short: requests in flight get a grace to finish (a tell that is
// writing, an ask that is fitting), event streams end at once, and only what outlasts the grace is cut.
import type { Server, ServerResponse } from 'node:http';

/** How long a stopping server waits for the answers in flight before it cuts their connections. */
export const DRAIN_MS = 5000;

export interface Drain {
  /** Stops accepting; resolves once every connection is closed (answers in flight sent, or `graceMs` passed). */
  close(graceMs?: number): Promise<void>;
}

export function drainOnClose(server: Server): Drain {
  const open = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    open.add(res);
    res.on('close', () => open.delete(res));
  });
  const isStream = (res: ServerResponse) => String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
  return {
    close: (graceMs = DRAIN_MS) => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeIdleConnections();
      // Event streams never end on their own; without this, close() would wait for every browser tab.
      for (const res of open) if (isStream(res)) res.socket?.destroy();
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      cut.unref();
      const settle = () => {
        if ([...open].some((res) => !isStream(res))) return;
        clearTimeout(cut);
        server.closeAllConnections();
      };
      for (const res of open) res.once('close', settle);
      settle();
    }),
  };
}
