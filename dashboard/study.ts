// Study page: loads one study, draws every view and redraws on the study's server-sent events.
import type { GpView, ImportanceView, StudyEvent, StudyView, TrialRecord } from './types.js';
import { apiJson, apiText, ApiFailure, subscribeStudy, throttled } from './ui/api.js';
import { applyEvent } from '../src/shared/live_view.js';
import { setupCharts } from './ui/chart.js';
import { byId, clear, downloadText, el, setMessage } from './ui/dom.js';
import { renderClips, renderCurves, renderFinal, renderGp, renderImportance, renderHistory, renderParallel, renderSchedules, renderSlices } from './ui/study_charts.js';
import { renderTrialDetail, TrialTable } from './ui/trial_table.js';
import { formatGain, formatValue, gain } from './data/summary.js';
import { rankedTrials } from './data/trials.js';
import { verdictCards } from './data/final.js';
import { trialsCsv } from '../src/shared/trials_csv.js';
import { CHARTED_TRIALS_TEXT } from '../src/shared/charted.js';
import { studyTrainerText, trainedOnSummary } from '../src/shared/trained_on.js';
import { stopRequestText } from '../src/shared/stopped.js';
import type { QueueAnswer } from '../src/server/queue_view.js';
import { studyQueueNote } from './data/queue_note.js';

/** The study as the address names it: an id, or a name until the first view gives its id (see followId). */
let studyId = new URLSearchParams(location.search).get('id');
let base = studyId ? `/api/studies/${encodeURIComponent(studyId)}` : '';
/** The study's event stream: opened in main, again under the id once a name is resolved, closed when the study is gone. */
let stream: { close(): void; reopen(): void } | null = null;
let view: StudyView | null = null;
let selected: number | null = null;
let gpLoadedAt = 0;
/** The study was deleted while the page was open: it keeps what it shows and fetches nothing more. */
let gone = false;
/** Trials whose curves the lean view (curves=top) left out: fetched one at a time when opened. */
let omitted = new Set<number>();
/** How long the last fetch + redraw took: live refreshes wait at least 4× that, so a huge study never saturates the tab. */
let lastRefreshMs = 0;
/**
 * The events that arrived while each view fetch was on its way: the server may have read that view before them, so
 * they are applied to it once it is in (one it already holds changes nothing). Without this the first load dropped
 * them, and a refetch lost them with the view it replaced: a trial told meanwhile showed running until reloaded.
 */
const inFlight = new Set<StudyEvent[]>();
const table = new TrialTable(byId<HTMLTableElement>('trials'), byId('trials-pager'), openTrial);

function setStatus(text: string, kind: 'error' | 'info' | '' = ''): void {
  const s = byId('status');
  s.className = kind ? `status ${kind}` : 'status';
  setMessage(s, text);
}

function openTrial(trialId: number): void {
  selected = trialId;
  if (!view) return;
  const t = view.trials.find((x) => x.id === trialId);
  if (!t) return;
  renderTrialDetail(view, t);
  renderClips(view, t);
  table.select(trialId);
  byId('trial-detail').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  if (omitted.has(trialId)) void showWithCurve(trialId);
}

/** Fetches the curve of a trial the lean view left out, then draws it in the detail and clip charts if still open. */
async function showWithCurve(trialId: number): Promise<void> {
  const t = view?.trials.find((x) => x.id === trialId);
  if (!t || !omitted.has(trialId)) return;
  try {
    const { trial } = await apiJson<{ trial: TrialRecord }>(`${base}/trials/${t.number}`);
    t.intermediate = trial.intermediate ?? [];
    if (view?.trials.includes(t)) omitted.delete(trialId);
  } catch (err) {
    setStatus(`Could not load trial #${t.number}'s curve: ${err instanceof Error ? err.message : String(err)}`, 'error');
    return;
  }
  if (!view || selected !== trialId || !view.trials.includes(t)) return;
  renderTrialDetail(view, t);
  renderClips(view, t);
}

function card(label: string, value: string, sub?: string, cls = ''): HTMLElement {
  return el('div', { class: `card ${cls}` }, el('div', { class: 'card-label' }, label), el('div', { class: 'card-value' }, value), sub ? el('div', { class: 'card-sub' }, sub) : null);
}

function baselineMissing(v: StudyView): string {
  return (v.config as { baselines?: boolean }).baselines === false ? 'no baseline measured (baselines: false)' : 'baseline not finished yet';
}

function renderOverview(v: StudyView): void {
  byId('overview').hidden = false;
  byId('study-name').textContent = v.name;
  document.title = `renorm-tune — ${v.name}`;
  const state = byId('study-state');
  state.textContent = v.state;
  state.className = `badge state-${v.state.toLowerCase()}`;
  const done = v.counts.COMPLETE + v.counts.PRUNED + v.counts.FAIL;
  const trained = trainedOnSummary(v.trials);
  const held = stopRequestText(v);
  state.title = held ?? '';
  // The stop's words quote commands (`npx renorm-tune resume`): drawn as code, not as raw backticks.
  setMessage(byId('study-meta'), `${held ? `${held} · ` : ''}${studyTrainerText(v)} · ${v.direction} ${v.metric} · ${done}${v.budgetTrials ? ` / ${v.budgetTrials}` : ''} trials finished (${v.counts.COMPLETE} complete, ${v.counts.PRUNED} pruned, ${v.counts.FAIL} failed, ${v.counts.RUNNING} running)${v.totalSteps ? ` · ${v.totalSteps} steps per trial` : ''}${trained ? ` · trained on ${trained}` : ''} · id ${v.id}`);
  const best = v.best?.value ?? null;
  const bn = v.baselines.batchnorm;
  const paper = v.baselines.paper;
  const gBn = gain(v.direction, best, bn);
  const gP = gain(v.direction, best, paper);
  const cards = byId('cards');
  clear(cards);
  // Search values are single noisy runs: shown, never coloured as a win; only the retrained, paired verdict is.
  cards.append(
    card('Best search value', formatValue(best, v.metric), v.best ? `trial #${v.best.number}, one validation run` : 'no complete trial yet', 'best'),
    card('vs BatchNorm (search)', formatGain(gBn, v.metric), bn === null ? baselineMissing(v) : `BatchNorm: ${formatValue(bn, v.metric)}; single runs, no interval`),
    card('vs paper (search)', formatGain(gP, v.metric), paper === null ? baselineMissing(v) : `paper: ${formatValue(paper, v.metric)}; single runs, no interval`),
  );
  for (const c of verdictCards(v.finalValidation)) cards.append(card(c.label, c.value, c.sub, c.cls));
  const ext = byId('external-note');
  const anyCurves = v.trials.some((t) => t.intermediate.length > 0);
  ext.hidden = !(v.executor === 'external' && !anyCurves && v.trials.length > 0);
  // The view carries only the curves the charts draw (curves=top): another trial may have reported some, so the note
  // speaks of the charted trials and points at a trial's own detail.
  ext.textContent = `External study: trials are evaluated outside renorm-tune, and none of those the charts draw (${CHARTED_TRIALS_TEXT}) reported learning curves, so the curve, gap and clip charts are empty; a trial opened from the table shows any it reported. Report them with POST /api/studies/:id/trials/:number/report (the trial number shown as #n).`;
  (byId<HTMLButtonElement>('export-best')).disabled = !v.best;
  (byId<HTMLButtonElement>('export-best')).title = v.best ? 'Download GET /best-schedule as JSON: the schedule the evidence supports, with the verdict' : 'No complete trial yet';
}

/** Per-view render times of the last refresh, exposed on <body data-timings> for diagnosing slow pages. */
const timings: Record<string, number> = {};
function timed(name: string, draw: () => void): void {
  const t0 = performance.now();
  draw();
  timings[name] = Math.round(performance.now() - t0);
}

function renderAll(v: StudyView): void {
  timed('overview', () => renderOverview(v));
  byId('panels').hidden = false;
  timed('history', () => renderHistory(v, openTrial));
  timed('final', () => renderFinal(v));
  timed('schedules', () => renderSchedules(v, openTrial));
  timed('curves', () => renderCurves(v, openTrial));
  const sel: TrialRecord | null = (selected !== null ? v.trials.find((t) => t.id === selected) : undefined) ?? rankedTrials(v.trials, v.direction)[0] ?? null;
  timed('clips', () => renderClips(v, sel));
  timed('parallel', () => renderParallel(v, openTrial));
  timed('slices', () => renderSlices(v, openTrial));
  timed('table', () => table.update(v));
  if (selected !== null) {
    const t = v.trials.find((x) => x.id === selected);
    if (t) timed('detail', () => renderTrialDetail(v, t));
  }
  document.body.dataset.timings = JSON.stringify(timings);
}

async function loadGp(force = false): Promise<void> {
  if (!view || gone || (!force && Date.now() - gpLoadedAt < 10_000)) return;
  gpLoadedAt = Date.now();
  try {
    const gp = await apiJson<GpView>(`${base}/gp`);
    renderGp(view, gp, null, () => {
      if (!view) return;
      renderSlices(view, openTrial);
      renderParallel(view, openTrial);
    });
  } catch (err) {
    renderGp(view, null, `The GP's view could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    renderImportance(await apiJson<ImportanceView>(`${base}/importance`));
  } catch (err) {
    renderImportance(null, err instanceof Error ? err.message : String(err));
  }
}

/** Fetches and draws the view. False when an event it missed cannot be applied to it: it must be fetched again. */
async function refresh(): Promise<boolean> {
  const started = performance.now();
  const missed: StudyEvent[] = [];
  inFlight.add(missed);
  try {
    // Only the curves the page draws (the best trials', the baselines', the unfinished ones'): a study of thousands of
    // trials with long curves would otherwise be mostly curves nobody looks at.
    const fetched = await apiJson<StudyView>(`${base}?curves=top`);
    // Older servers or trimmed views may leave these out; every chart below expects them.
    for (const t of fetched.trials) {
      t.intermediate ??= [];
      t.params ??= {};
    }
    inFlight.delete(missed);
    followId(fetched.id);
    let whole = true;
    for (const e of missed) whole = applyEvent(fetched, e) && whole;
    view = fetched;
    const sent = view.curveTrials ? new Set(view.curveTrials) : null;
    omitted = new Set(sent ? view.trials.filter((t) => !sent.has(t.id)).map((t) => t.id) : []);
    document.body.dataset.fetchMs = String(Math.round(performance.now() - started));
    setStatus('');
    renderAll(view);
    lastRefreshMs = performance.now() - started;
    document.body.dataset.refreshMs = String(Math.round(lastRefreshMs));
    if (selected !== null) void showWithCurve(selected);
    void loadGp(gpLoadedAt === 0);
    return whole;
  } catch (err) {
    inFlight.delete(missed);
    if (err instanceof ApiFailure && err.status === 404) {
      byId('overview').hidden = true;
      byId('panels').hidden = true;
      // Nothing to stream either: the badge would say "reconnecting…" for good.
      stream?.close();
      const live = byId('live');
      live.className = 'live off';
      live.textContent = 'not found';
      setStatus(`No such study: ${err.message}. Go back to the list of studies.`, 'error');
    } else {
      setStatus(`Could not load the study: ${err instanceof Error ? err.message : String(err)}${view ? ' — showing the last data received.' : ''}`, 'error');
    }
    return true;
  }
}

/**
 * An address by name follows the study by its id from the first view on (history.replaceState; the event stream
 * reopened under the id): a rename while the page is open no longer leaves it asking for a name that is gone.
 */
function followId(id: string): void {
  if (id === studyId) return;
  studyId = id;
  base = `/api/studies/${encodeURIComponent(id)}`;
  const url = new URL(location.href);
  url.searchParams.set('id', id);
  history.replaceState(history.state, '', url);
  stream?.reopen();
}

/**
 * Says when the queue the server watches has this study's coordinator but no worker for it; true while the server
 * watches a queue (asked again every few seconds), false when it watches none (never asked again).
 */
async function loadQueueNote(): Promise<boolean> {
  const note = byId('queue-note');
  try {
    const answer = await apiJson<QueueAnswer>('/api/queue');
    const text = studyQueueNote(answer, studyId!);
    note.hidden = text === null;
    setMessage(note, text ?? '');
    return answer.watched;
  } catch {
    // Redis away (the landing page's panel says so) or the server gone (the page's status says so): no word here.
    note.hidden = true;
    return true;
  }
}

async function exportBest(): Promise<void> {
  try {
    // The file holds the response bytes exactly as the API sent them: what the CLI's export and the API give.
    const text = await apiText(`${base}/best-schedule`);
    downloadText(`${safeName(view?.name ?? studyId ?? 'study')}-best-schedule.json`, text, 'application/json');
  } catch (err) {
    setStatus(`Export failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
  }
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'study';
}

function main(): void {
  if (!studyId) {
    setStatus('No study selected: open a study from the list of studies (the address needs ?id=<study id>).', 'error');
    return;
  }
  try {
    setupCharts();
  } catch (err) {
    setStatus(String(err instanceof Error ? err.message : err), 'error');
    return;
  }
  void loadQueueNote().then((watched) => {
    if (watched) setInterval(() => void loadQueueNote(), 5000);
  });
  byId('export-best').addEventListener('click', () => void exportBest());
  byId('export-csv').addEventListener('click', () => {
    if (view) downloadText(`${safeName(view.name)}-trials.csv`, trialsCsv(view.trials), 'text/csv');
  });
  const live = byId('live');
  // Events are applied as they come; the (costly) redraw is throttled to 4x its own last duration.
  const redraw = throttled(() => {
    if (!view) return;
    const started = performance.now();
    renderAll(view);
    lastRefreshMs = performance.now() - started;
    void loadGp();
  }, () => Math.max(1000, 4 * lastRefreshMs));
  const load = async () => {
    if (!(await refresh())) refetch();
  };
  const refetch = throttled(() => {
    if (!gone) void load();
  }, () => Math.max(1000, 4 * lastRefreshMs));
  const open = () => subscribeStudy(
    studyId!,
    (event) => {
      for (const missed of inFlight) missed.push(event);
      if (event.type === 'trial') document.body.dataset.lastEvent = `trial ${event.trial.id} ${event.trial.state}`;
      if (event.type === 'deleted') {
        gone = true;
        live.className = 'live off';
        live.textContent = 'deleted';
        setStatus(`This study was deleted (renorm-tune delete, or DELETE /api/studies/${studyId}, here or from another process): the page shows it as it was last received. Go back to the list of studies.`, 'error');
        return;
      }
      if (!view || gone) return;
      if (applyEvent(view, event)) redraw();
      else refetch();
    },
    (on) => {
      if (gone) return;
      live.className = on ? 'live on' : 'live off';
      live.textContent = on ? 'live' : 'reconnecting…';
    },
    refetch,
  );
  let close = open();
  stream = {
    close: () => close(),
    reopen: () => {
      close();
      close = open();
      // What came between the two streams: fetched once more rather than missed.
      refetch();
    },
  };
  void load();
}

main();
