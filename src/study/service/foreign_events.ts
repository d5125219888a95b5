// Describes another process's changes to a watched study as the incremental events this process emits for its own.
//
// Workers on other machines (and a `renorm-tune run` beside a `serve`) write the study through their own
// connections, so to the serving process every trial they ask, report and tell is a foreign change. Announced as
// "refetch", each would make a dashboard reload the whole study (93 MB of JSON at 100,000 trials). Instead the
// study as last described is kept (the listing's records, shared with the store's own copy, so little memory), and
// each change is told as a `trial` event per changed trial and a `report` event per new curve point, and new results
// (a final-validation report) as a `study` event that carries them. A `study` event with `refetch` remains for what
// is not described so: a renamed or reconfigured study, and a change too large to read trial by trial
// (MAX_FINISHED_READ, MAX_RUNNING_READ). A study found gone is told as `deleted`, once.
//
// This process's own events pass through `own` on their way out, so that what it told itself is not told again when
// a look finds it, and what a look told first is not told twice: each trial change and curve point goes out once,
// whichever of the two sees it first.
import type { StudyEvent, TrialSummary } from '../api_types.js';
import type { Storage, StudyRecord, StudyState, TrialRecord } from '../types.js';
import { curveRestarted, isFinished, olderThan } from '../../shared/attempts.js';
import { studyResults, trialSummary } from './views.js';

/** More trials than this finished (or otherwise changed, not RUNNING) since the last look: announced as `refetch`. */
export const MAX_FINISHED_READ = 64;
/**
 * More RUNNING trials than this: announced as `refetch`. Their curves are read at every look (a report moves no
 * trial's own stamp, so which of them grew is not known), in one listing by state (the stores read it by their
 * state index).
 */
export const MAX_RUNNING_READ = 128;
/** Between two descriptions of one study: a study that many workers report to is read at most this often. */
export const DESCRIBE_GAP_MS = 200;

type Store = Pick<Storage, 'getStudy' | 'listTrials' | 'getTrial'>;
/** `fields` after this process's own reload prompt: the next look takes the study's fields as they are. */
const ADOPT_FIELDS = '';

interface Described {
  /** The study's own fields that only a refetch shows (name, config), as JSON. */
  fields: string;
  /** Its results (studyResults) as last told, as JSON. */
  results: string;
  state: StudyState;
  /** Each trial as last told (or as listed when watching began), by id; null before the first read succeeded. */
  trials: Map<number, TrialSummary> | null;
  /** Steps already told, for each trial whose curve may still grow (dropped as it finishes). */
  steps: Map<number, Set<number>>;
  /** The description running or queued; changes that arrive meanwhile share the next one. */
  chain: Promise<void>;
  queued: boolean;
  /** A description is reading the store: this process's own events may be newer than what it reads. */
  looking: boolean;
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
    const d: Described = { fields: '', results: '', state: 'CREATED', trials: null, steps: new Map(), chain: Promise.resolve(), queued: false, looking: false };
    this.studies.set(studyId, d);
    try {
      const [study, trials] = await Promise.all([this.store.getStudy(studyId), this.store.listTrials(studyId, { withIntermediate: false })]);
      if (!study || this.studies.get(studyId) !== d) return;
      d.fields = fieldsOf(study);
      d.results = JSON.stringify(studyResults(study));
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
   * This process's own event, about to be sent: false when it would repeat what a look already told. Notes what
   * it tells, so a look does not tell it again.
   */
  own(event: StudyEvent): boolean {
    const d = this.studies.get(event.studyId);
    if (!d) return true;
    switch (event.type) {
      case 'trial': {
        if (!d.trials) return true;
        const told = d.trials.get(event.trial.id);
        if (told && !changedTrial(told, event.trial)) return false;
        d.trials.set(event.trial.id, event.trial);
        // A finish during a look leaves the steps to the look, whose read may still hold points not yet told.
        if ((isFinished(event.trial.state) && !d.looking) || curveRestarted(told, event.trial)) d.steps.delete(event.trial.id);
        return true;
      }
      case 'report': {
        let steps = d.steps.get(event.trialId);
        if (!steps) d.steps.set(event.trialId, (steps = new Set()));
        if (steps.has(event.point.step)) return false;
        steps.add(event.point.step);
        return true;
      }
      case 'study':
        // A rename or a new config is this process's own: a look should not ask for a second reload.
        if (event.refetch) d.fields = ADOPT_FIELDS;
        if (event.results) d.results = JSON.stringify(event.results);
        d.state = event.state;
        return true;
      case 'deleted':
        // Told once, whoever finds it first: this process's delete, or a look that finds the study gone.
        this.studies.delete(event.studyId);
        return true;
    }
  }

  /** The study is gone (another process deleted it): its viewers are told so once, and nothing more of it is described. */
  gone(studyId: string): void {
    if (this.studies.has(studyId)) this.emit({ type: 'deleted', studyId });
    this.studies.delete(studyId);
  }

  /**
   * The study changed (another process's change, or this one's own): described after any description under way,
   * once for all that arrive meanwhile. Resolves when that description is out.
   */
  changed(studyId: string): Promise<void> {
    const d = this.studies.get(studyId);
    if (!d) return Promise.resolve();
    if (d.queued) return d.chain;
    d.queued = true;
    d.chain = d.chain.then(async () => {
      d.queued = false;
      d.looking = true;
      try {
        await this.describe(studyId, d);
      } catch {
        // A notification has no caller to tell; the next change (or a viewer's reload) catches up.
      } finally {
        d.looking = false;
      }
      if (this.gapMs > 0) await new Promise<void>((r) => setTimeout(r, this.gapMs).unref());
    });
    return d.chain;
  }

  private async describe(studyId: string, d: Described): Promise<void> {
    // The study as told when the look began: an own event during the look is newer than the look's read.
    const toldState = d.state;
    const toldResults = d.results;
    const study = await this.store.getStudy(studyId);
    if (!study) {
      if (this.studies.get(studyId) === d) this.gone(studyId);
      return;
    }
    const listed = await this.store.listTrials(studyId, { withIntermediate: false });
    if (this.studies.get(studyId) !== d) return;
    const known = d.trials;
    const fields = fieldsOf(study);
    // One pass, in place: over 100,000 listed records a fresh map per look took 40-100 ms of the event loop, this
    // pass 2-14 ms. A trial read again below keeps its last told record in `known` until then: this process's own
    // event for it may arrive while the look waits on the store, and must find what was told, not what was listed.
    const running: TrialRecord[] = [];
    const changed: TrialRecord[] = [];
    const was = new Map<number, TrialSummary | undefined>();
    if (known) {
      for (const t of listed) {
        const before = known.get(t.id);
        if (before === t) continue;
        if (t.state === 'RUNNING') running.push(t);
        else if (changedTrial(before, t)) changed.push(t);
        else {
          // The same trial in another copy (read whole last time, or told by this process): keep the listing's,
          // so the next look compares identities again, not fields.
          known.set(t.id, t);
          continue;
        }
        was.set(t.id, before);
      }
    }
    if (d.fields === ADOPT_FIELDS) d.fields = fields;
    const results = studyResults(study);
    const resultsJson = JSON.stringify(results);
    if (!known || fields !== d.fields || changed.length > MAX_FINISHED_READ || running.length > MAX_RUNNING_READ) {
      d.trials = new Map(listed.map((t) => [t.id, t]));
      d.fields = fields;
      d.results = resultsJson;
      d.state = study.state;
      d.steps.clear();
      this.emit({ type: 'study', studyId, state: study.state, refetch: true });
      return;
    }
    const curves = new Map((running.length > 0 ? await this.store.listTrials(studyId, { states: ['RUNNING'] }) : []).map((t) => [t.id, t]));
    const reads: TrialRecord[] = [];
    for (const listedTrial of [...running, ...changed].sort((x, y) => x.number - y.number)) {
      // Read whole, so the trial and its curve are told as of one moment (by id: a finished one, or one that
      // finished since the listing).
      reads.push(curves.get(listedTrial.id) ?? (await this.store.getTrial(studyId, listedTrial.id)) ?? listedTrial);
    }
    if (this.studies.get(studyId) !== d) return;
    // From here to the emits nothing waits, so no event of this process's own comes between a comparison and its emit.
    const events: StudyEvent[] = [];
    for (const t of reads) {
      // What was told last: the look's starting point, or this process's own event that arrived during the reads.
      const told = known.get(t.id);
      const stale = told !== undefined && told !== was.get(t.id) && olderThan(t, told);
      if (!stale) {
        known.set(t.id, t);
        if (changedTrial(told, t)) events.push({ type: 'trial', studyId, trial: trialSummary(t) });
        // A new attempt's points are new even at steps the last one reported (a viewer starts its curve over too).
        if (curveRestarted(told, t)) d.steps.delete(t.id);
      }
      // A read from before this process's own later event: that event was told, and stands. The read's points are
      // still told where they belong to the attempt the viewer shows.
      if (stale && curveRestarted(t, told)) continue;
      let steps = d.steps.get(t.id);
      if (!steps) d.steps.set(t.id, (steps = new Set()));
      for (const point of t.intermediate) {
        if (steps.has(point.step)) continue;
        steps.add(point.step);
        events.push({ type: 'report', studyId, trialId: t.id, number: t.number, point });
      }
    }
    // A finished trial's curve is complete (this process's own finish, during the look, left its steps for the look).
    for (const id of d.steps.keys()) if (isFinished(known.get(id)?.state ?? 'RUNNING')) d.steps.delete(id);
    const ownMeanwhile = d.state !== toldState || d.results !== toldResults;
    if (!ownMeanwhile && (study.state !== d.state || resultsJson !== d.results)) {
      events.push({ type: 'study', studyId, state: study.state, ...(resultsJson !== d.results ? { results } : {}) });
      d.state = study.state;
      d.results = resultsJson;
    }
    for (const e of events) this.emit(e);
  }
}

function fieldsOf(study: StudyRecord): string {
  return JSON.stringify([study.name, study.config]);
}

/**
 * Whether a trial differs as a `trial` event would show it, by the fields a store changes after creating it (metrics
 * change only as the trial finishes, with its state and finish time). A lease renewal alone (a new expiry) is not a
 * change: this process announces none for its own either. No JSON: a store whose copy of the listing was dropped
 * hands out new records for every trial, and 100,000 JSON comparisons took 1-2 s of the event loop.
 */
function changedTrial(was: TrialSummary | undefined, now: TrialSummary): boolean {
  if (was === now) return false;
  if (!was) return true;
  return was.state !== now.state || !Object.is(was.value, now.value) || was.failureReason !== now.failureReason
    || was.pruneRequested !== now.pruneRequested || was.retries !== now.retries || was.startedAt !== now.startedAt
    || was.finishedAt !== now.finishedAt || was.lease?.owner !== now.lease?.owner || was.lease?.token !== now.lease?.token;
}
