// What a dashboard's event stream carries while another process writes the study: a writer with a store connection
// of its own asks, reports and tells trials as queue workers would, and a reader tallies the served stream's events,
// their bytes and its reload prompts (each a fetch of the whole view).
import type { StudyEvent } from '../study/api_types.js';
import { createStudyService } from '../study/service/defaults.js';
import { openStorage } from '../study/storage/index.js';

export interface StreamTally {
  /** Events by type (`trial`, `report`, `study`, `deleted`). */
  events: Record<string, number>;
  /** `trial` events of a COMPLETE trial. */
  completed: number;
  /** `study` events with `refetch: true`: a viewer reloads the whole study at each. */
  reloads: number;
  bytes: number;
  /** The events themselves, parsed, in order (what a page would apply). */
  received: StudyEvent[];
}

export interface LiveWriter {
  rounds: number;
  /** Trials asked per round; each gets `reports` curve points and a tell. */
  perRound: number;
  reports: number;
  gapMs: number;
}

export const DEFAULT_WRITER: LiveWriter = { rounds: 5, perRound: 4, reports: 4, gapMs: 1800 };

/** Reads `url`'s event stream until `done` holds or `timeoutMs` passes. */
export async function tallyStream(url: string, done: (t: StreamTally) => boolean, timeoutMs: number, opened: () => void): Promise<StreamTally> {
  const tally: StreamTally = { events: {}, completed: 0, reloads: 0, bytes: 0, received: [] };
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: ac.signal });
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
    opened();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let pending = '';
    while (!done(tally)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      tally.bytes += value.length;
      pending += decoder.decode(value, { stream: true });
      const blocks = pending.split('\n\n');
      pending = blocks.pop()!;
      for (const block of blocks) {
        const type = /^event: (\w+)$/m.exec(block)?.[1];
        if (!type) continue;
        tally.events[type] = (tally.events[type] ?? 0) + 1;
        if (type === 'trial' && block.includes('"state":"COMPLETE"')) tally.completed++;
        if (type === 'study' && block.includes('"refetch":true')) tally.reloads++;
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data) tally.received.push(JSON.parse(data) as StudyEvent);
      }
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return tally;
}

/** Writes `w.rounds` rounds of trials into study `id` through a store connection of its own; returns the trials told. */
export async function writeLikeWorkers(ref: string, id: string, w: LiveWriter = DEFAULT_WRITER): Promise<number> {
  const storage = await openStorage(ref);
  const service = createStudyService(storage);
  let told = 0;
  try {
    for (let round = 0; round < w.rounds; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, w.gapMs));
      const asked = await service.ask(id, w.perRound);
      for (let step = 1; step <= w.reports; step++) for (const t of asked) await service.report(id, t.id, step * 100, Math.random());
      for (const t of asked) await service.tell(id, t.id, { value: Math.random() });
      told += asked.length;
    }
    return told;
  } finally {
    service.close();
    await storage.close();
  }
}
