// Describes another process's changes to a watched study as the incremental events this process emits for its own.
//
// Workers on other machines (and a `renorm-tune run` beside a `serve`) write the study through their own
// connections, so to the serving process every trial they ask, report and tell is a foreign change. Announced as
// "refetch", each would make a dashboard reload the whole study (93 MB of JSON at 100,000 trials). Instead the
// study as last described is kept (the listing's records, shared with the store's own copy, so little memory), and
// each change is told as a `trial` event per changed trial and a `report` event per new curve point. A `study`
// event with `refetch` remains for what is not described so: a renamed or reconfigured study (or new attrs), and a
// change too large to read trial by trial (MAX_FINISHED_READ, MAX_RUNNING_READ).
import type { StudyEvent } from '../api_types.js';
import type { Storage, StudyRecord, StudyState, TrialRecord } from '../types.js';
import { trialSummary } from './views.js';

/** More trials than this finished (or otherwise changed, not RUNNING) since the last look: announced as `refetch`. */
export const MAX_FINISHED_READ = 64;
/**
 * More RUNNING trials than this: announced as `refetch`. Their curves are read at every look (a report moves no
 * trial's own stamp, so which of them grew is not known), in one listing.
 */
export const MAX_RUNNING_READ = 512;
/** Between two descriptions of one study: a study that many workers report to is read at most this often. */
export const DESCRIBE_GAP_MS = 200;

type Store = Pick<Storage, 'getStudy' | 'listTrials' | 'getTrial'>;
const finished = (t: TrialRecord) => t.state !== 'RUNNING' && t.state !== 'WAITING';

interface Described {
  /** The study's own fields that only a refetch shows (name, config, attrs), as JSON. */
  fields: string;
  state: StudyState;
  /** The listing as last described, by trial id; null before the first read succeeded. */
  trials: Map<number, TrialRecord> | null;
  /** Steps already announced, for each trial whose curve was read and may still grow. */
  steps: Map<number, Set<number>>;
  /** The description running or queued; changes that arrive meanwhile share the next one. */
  chain: Promise<void>;
  queued: boolean;
}

export class ForeignEvents {
  private readonly studies = new Map<string, Described>();

  constructor(
    private readonly store: Store,
    private readonly emit: (event: StudyEvent) => void,
    private readonly gapMs = DESCRIBE_GAP_MS,
  ) {}

  /** The study as it is when watching starts: later changes are told against it. */
  async begin(studyId: string): Promise<void> {
    const d: Described = { fields: '', state: 'CREATED', trials: null, steps: new Map(), chain: Promise.resolve(), queued: false };
    this.studies.set(studyId, d);
    try {
      const [study, trials] = await Promise.all([this.store.getStudy(studyId), this.store.listTrials(studyId, { withIntermediate: false })]);
      if (!study || this.studies.get(studyId) !== d) return;
      d.fields = fieldsOf(study);
      d.state = study.state;
      d.trials = new Map(trials.map((t) => [t.id, t]));
    } catch {
      // The store is closing or the study is gone: the first change is announced as `refetch`.
    }
  }

  end(studyId: string): void {
    this.studies.delete(studyId);
  }

  /**
   * Another process changed the study: described after any description under way, once for all that arrive
   * meanwhile. Resolves when that description is out.
   */
  changed(studyId: string): Promise<void> {
    const d = this.studies.get(studyId);
    if (!d) return Promise.resolve();
    if (d.queued) return d.chain;
    d.queued = true;
    d.chain = d.chain.then(async () => {
      d.queued = false;
      try {
        await this.describe(studyId, d);
      } catch {
        // A notification has no caller to tell; the next change (or a viewer's reload) catches up.
      }
      if (this.gapMs > 0) await new Promise<void>((r) => setTimeout(r, this.gapMs).unref());
    });
    return d.chain;
  }

  private async describe(studyId: string, d: Described): Promise<void> {
    const study = await this.store.getStudy(studyId);
    if (!study) return;
    const listed = await this.store.listTrials(studyId, { withIntermediate: false });
    if (this.studies.get(studyId) !== d) return;
    const known = d.trials;
    const fields = fieldsOf(study);
    // One pass, in place: over 100,000 listed records a fresh map per look took 40-100 ms of the event loop, this
    // pass 2-14 ms.
    const running: TrialRecord[] = [];
    const changed: TrialRecord[] = [];
    const was = new Map<number, TrialRecord | undefined>();
    if (known) {
      for (const t of listed) {
        const before = known.get(t.id);
        if (before === t) continue;
        if (t.state === 'RUNNING') running.push(t);
        else if (changedTrial(before, t)) changed.push(t);
        else {
          // The same trial in another copy (the one read whole last time): keep the listing's, so the next look
          // compares identities again, not JSON.
          known.set(t.id, t);
          continue;
        }
        was.set(t.id, before);
        known.set(t.id, t);
      }
    }
    if (!known || fields !== d.fields || changed.length > MAX_FINISHED_READ || running.length > MAX_RUNNING_READ) {
      d.trials = new Map(listed.map((t) => [t.id, t]));
      d.fields = fields;
      d.state = study.state;
      d.steps.clear();
      this.emit({ type: 'study', studyId, state: study.state, refetch: true });
      return;
    }
    const curves = new Map((running.length > 0 ? await this.store.listTrials(studyId, { states: ['RUNNING'] }) : []).map((t) => [t.id, t]));
    const events: StudyEvent[] = [];
    for (const listedTrial of [...running, ...changed].sort((x, y) => x.number - y.number)) {
      // Read whole, so the trial and its curve are told as of one moment (one that finished since the listing alone).
      const t = curves.get(listedTrial.id) ?? (await this.store.getTrial(studyId, listedTrial.id)) ?? listedTrial;
      known.set(t.id, t);
      if (changedTrial(was.get(t.id), t)) events.push({ type: 'trial', studyId, trial: trialSummary(t) });
      let steps = d.steps.get(t.id);
      if (!steps) d.steps.set(t.id, (steps = new Set()));
      for (const point of t.intermediate) {
        if (steps.has(point.step)) continue;
        steps.add(point.step);
        events.push({ type: 'report', studyId, trialId: t.id, number: t.number, point });
      }
      // A finished trial's curve is complete.
      if (finished(t)) d.steps.delete(t.id);
    }
    if (this.studies.get(studyId) !== d) return;
    if (study.state !== d.state) {
      d.state = study.state;
      events.push({ type: 'study', studyId, state: study.state });
    }
    for (const e of events) this.emit(e);
  }
}

function fieldsOf(study: StudyRecord): string {
  return JSON.stringify([study.name, study.config, study.attrs]);
}

/**
 * Whether a trial differs as a `trial` event would show it, by the fields a store changes after creating it (metrics
 * change only as the trial finishes, with its state and finish time). A lease renewal alone (a new expiry) is not a
 * change: this process announces none for its own either. No JSON: a store whose copy of the listing was dropped
 * hands out new records for every trial, and 100,000 JSON comparisons took 1-2 s of the event loop.
 */
function changedTrial(was: TrialRecord | undefined, now: TrialRecord): boolean {
  if (was === now) return false;
  if (!was) return true;
  return was.state !== now.state || !Object.is(was.value, now.value) || was.failureReason !== now.failureReason
    || was.pruneRequested !== now.pruneRequested || was.retries !== now.retries || was.startedAt !== now.startedAt
    || was.finishedAt !== now.finishedAt || was.lease?.owner !== now.lease?.owner || was.lease?.token !== now.lease?.token;
}
