// Streams one study's events as server-sent events, with heartbeats, until the client goes away.
import type { Request, Response } from 'express';
import type { StudyApi, StudyEvent } from '../study/api_types.js';

export interface SseOptions {
  /** Comment lines keep proxies and idle timeouts from closing a quiet stream. Default 15 s. */
  heartbeatMs?: number;
}

/** `event:`/`data:` framing; JSON never contains a raw newline, so one data line is always enough. */
export function formatEvent(event: StudyEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The caller has already checked that the study exists, so the 200 is only sent for a real stream. */
export function streamStudyEvents(api: StudyApi, studyId: string, req: Request, res: Response, opts: SseOptions = {}): void {
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
  let open = true;
  const unsubscribe = api.subscribe(studyId, (event) => {
    if (open) res.write(formatEvent(event));
  });
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), opts.heartbeatMs ?? 15_000);
  heartbeat.unref();
  const close = () => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    unsubscribe();
    res.end();
  };
  req.on('close', close);
  res.on('close', close);
  res.on('error', close);
}
