// Streams one study's events as server-sent events, with heartbeats and a bounded send buffer, until the client goes away
// or the study is deleted.
import type { Request, Response } from 'express';
import type { StudyApi, StudyEvent } from '../study/api_types.js';

export interface SseOptions {
  /** Comment lines keep proxies and idle timeouts from closing a quiet stream. Default 15 s. */
  heartbeatMs?: number;
  /**
   * Bytes a client may leave unread before it is dropped (its EventSource reconnects and refetches). Events are
   * small and incremental, so only a client that stopped reading gets here; without the bound it would grow the
   * server's memory without end. Default 1 MiB.
   */
  maxBufferedBytes?: number;
}

/** `event:`/`data:` framing; JSON never contains a raw newline, so one data line is always enough. */
export function formatEvent(event: StudyEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Subscribes first, so an unknown study is a JSON 404 (the rejection reaches the error handler) and a 200 is only sent for a real stream. */
export async function streamStudyEvents(api: StudyApi, study: string, req: Request, res: Response, opts: SseOptions = {}): Promise<void> {
  const limit = opts.maxBufferedBytes ?? 1 << 20;
  let open = true;
  let early: StudyEvent[] | null = [];
  let heartbeat: NodeJS.Timeout | undefined;
  const send = (text: string) => {
    if (!open) return;
    if (res.writableLength > limit) {
      close();
      return;
    }
    res.write(text);
  };
  const unsubscribe = await api.subscribe(study, (event) => {
    if (early) early.push(event);
    else deliver(event);
  });
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    // nginx would otherwise buffer the stream and deliver events in bursts.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  // retry: how long a browser's EventSource waits before reconnecting after the server restarts.
  res.write('retry: 3000\n: connected\n\n');
  // A deleted study's stream ends with that event (a browser's EventSource then reconnects into a 404 and stops).
  function deliver(event: StudyEvent): void {
    send(formatEvent(event));
    if (event.type === 'deleted') close();
  }
  for (const e of early) deliver(e);
  early = null;
  if (!open) return;
  heartbeat = setInterval(() => send(': heartbeat\n\n'), opts.heartbeatMs ?? 15_000);
  heartbeat.unref();
  function close(): void {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    unsubscribe();
    res.end();
  }
  req.on('close', close);
  res.on('close', close);
  res.on('error', close);
}
