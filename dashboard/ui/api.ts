// Fetches from the REST API and turns every failure (network, 4xx/5xx JSON error, bad JSON) into one error type the pages explain; subscribes to live events.
import type { StudyEvent } from '../types.js';
import { CLI } from '../../src/shared/names.js';

export class ApiFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function apiText(path: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' } });
  } catch {
    throw new ApiFailure('NETWORK', `cannot reach the renorm-tune API — is \`${CLI} serve\` (or \`run --port\`) still running?`, 0);
  }
  const text = await res.text();
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error?.code) code = body.error.code;
      if (body.error?.message) message = body.error.message;
    } catch {
      // Not JSON (a proxy's error page): keep the status line.
    }
    if (res.status === 401) message = `${message} — open the dashboard once as /?token=<token> (the --token the server was started with) to sign in`;
    throw new ApiFailure(code, message, res.status);
  }
  return text;
}

export async function apiJson<T>(path: string): Promise<T> {
  const text = await apiText(path);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiFailure('BAD_RESPONSE', `${path} did not return JSON`, 200);
  }
}

/**
 * Subscribes to a study's server-sent events. Each event goes to `onEvent` as it arrives (they are small and
 * incremental); `onReconnect` runs when the stream comes back after a drop, since events may have been missed. A
 * `deleted` event ends the subscription.
 */
export function subscribeStudy(studyId: string, onEvent: (event: StudyEvent) => void, onStatus: (live: boolean) => void, onReconnect: () => void): () => void {
  const source = new EventSource(`/api/studies/${encodeURIComponent(studyId)}/events`);
  let dropped = false;
  const deliver = (e: Event) => {
    let event: StudyEvent;
    try {
      event = JSON.parse((e as MessageEvent<string>).data) as StudyEvent;
    } catch {
      onReconnect();
      return;
    }
    // The study's last event: reconnecting would only find it gone.
    if (event.type === 'deleted') source.close();
    onEvent(event);
  };
  for (const type of ['trial', 'report', 'study', 'deleted']) source.addEventListener(type, deliver);
  source.addEventListener('open', () => {
    onStatus(true);
    if (dropped) onReconnect();
    dropped = false;
  });
  source.addEventListener('error', () => {
    dropped = true;
    onStatus(false);
  });
  return () => source.close();
}

/** Calls `fn` at most once per `intervalMs()` however often it is poked (hundreds of trials reporting every few steps). */
export function throttled(fn: () => void, intervalMs: () => number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, Math.max(0, last + intervalMs() - Date.now()));
  };
}
