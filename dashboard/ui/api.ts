// Fetches from the REST API and turns every failure (network, 4xx/5xx JSON error, bad JSON) into one error type the pages explain.
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
    throw new ApiFailure('NETWORK', 'cannot reach the renorm-tune API — is `renorm-tune serve` (or `run --port`) still running?', 0);
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
 * Subscribes to a study's server-sent events and calls `onChange` at most once per `throttleMs()` however fast trials
 * report (hundreds of trials reporting every few steps would otherwise refetch continuously). The throttle is read
 * each time, so a page can slow down when its last redraw was expensive.
 */
export function subscribeStudy(studyId: string, onChange: () => void, onStatus: (live: boolean) => void, throttleMs: () => number = () => 1000): () => void {
  const source = new EventSource(`/api/studies/${encodeURIComponent(studyId)}/events`);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  const fire = () => {
    timer = null;
    last = Date.now();
    onChange();
  };
  const schedule = () => {
    if (timer) return;
    timer = setTimeout(fire, Math.max(0, last + throttleMs() - Date.now()));
  };
  source.addEventListener('trial', schedule);
  source.addEventListener('study', schedule);
  source.addEventListener('open', () => onStatus(true));
  source.addEventListener('error', () => onStatus(false));
  return () => {
    source.close();
    if (timer) clearTimeout(timer);
  };
}
