// The /api routes: each one checks its input, calls exactly one StudyApi method and shapes the JSON answer.
// Every :id is a study's id or its name; every :number is a trial's number in its study (`#7` -> /trials/7; anything
// else there, such as `abc`, is 400 INVALID_URL with field `number`).
//
//   GET    /api/health                                  {ok, version}: liveness, never touches the storage (open even with a token)
//   GET    /api/ready                                   {ok, studies}: readiness, the study list read from the storage within
//                                                       READY_WAIT_MS (2 s), else 503 STORAGE_UNAVAILABLE (open even with a token)
//   GET    /api/queue                                   {watched: true, ...QueueStatus} (= `renorm-tune queue --db --json`) with
//                                                       `serve --redis`, else {watched: false, message}; 503 QUEUE_UNAVAILABLE
//                                                       when Redis does not answer within QUEUE_WAIT_MS (3 s)
//   POST   /api/studies               <study config>    201 {id, name}; `warmStartFrom` copies an earlier study's trials in
//   GET    /api/studies                                 {studies: StudySummary[]}
//   GET    /api/studies/:id                             StudyView (= `renorm-tune show --json`); ?curves=top: only the curves
//                                                       the study page draws (curveTrials lists them; the others' are empty)
//   DELETE /api/studies/:id                             {deleted: {id, name, trials}}
//   POST   /api/studies/:id/ask       {count?: 1-64, totalSteps?, askId?}
//                                                       {trials: AskedTrial[]} (number, role, params, schedule,
//                                                       renormMomentum, totalSteps, table, lease, seed, id); never more
//                                                       than is left of budget.trials, 409 BUDGET_EXHAUSTED once none is
//                                                       left, 409 STUDY_STOPPED while stopped
//   GET    /api/studies/:id/trials/:number              {trial}: one trial with its curve, as the view lists it
//   POST   /api/studies/:id/trials/:number/report  {step, value, metrics?, token?}   {prune, ignored?}; renews the lease;
//                                                       a step reported before keeps its first value (`ignored` says so
//                                                       when the new value differs)
//   POST   /api/studies/:id/trials/:number/tell    {value | failed, token?, metrics?}          {trial}
//   POST   /api/studies/:id/trials/:number/release {token}          {trial}: handed back, WAITING for the next ask
//   POST   /api/studies/:id/trials/:number/heartbeat {token}        {lease}: renewed for the study's leaseSeconds
//                                                       (lease.seconds, as in an ask's answer: pace heartbeats by it)
//   POST   /api/studies/:id/enqueue   {schedule, renormMomentum?}   201 {trial}: evaluated before new suggestions
//   POST   /api/studies/:id/extend    {trials?, timeMinutes?}       {study}: the new totals (raise only)
//   POST   /api/studies/:id/stop                        {study}: STOPPED, asks refused until resumed
//   POST   /api/studies/:id/resume                      {study}: the stop lifted: an external study takes asks again, a
//                                                       local one's next run resumes it (even under --unless-stopped)
//   POST   /api/studies/:id/rename    {name}            {study}
//   GET    /api/studies/:id/best-schedule               ExportedSchedule (= `renorm-tune export`)
//   GET    /api/studies/:id/gp                          GpView
//   GET    /api/studies/:id/events                      text/event-stream of StudyEvent (`event: trial|report|study|deleted`):
//                                                       incremental, also for changes another process makes to the
//                                                       database (a worker, a `run`); `study` with `results` when the
//                                                       verdict or warm-start report changed, with `refetch: true` when
//                                                       such a change is too large to tell trial by trial; `deleted`
//                                                       last, then the stream ends
// Errors are {error: {code, message, field?}}: 400 INVALID_JSON / INVALID_CONFIG (a config, schedule or management
// body) / INVALID_ASK / INVALID_REPORT / INVALID_TELL / INVALID_RELEASE / INVALID_HEARTBEAT / INVALID_ENCODING /
// INVALID_URL, 401 UNAUTHORIZED, 403 HOST_NOT_ALLOWED / CROSS_SITE_REQUEST / READ_ONLY_TOKEN, 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED (a
// path above with another method; the Allow header lists its methods, read from this router), 409 CONFLICT /
// BUDGET_EXHAUSTED / LEASE_LOST / STUDY_STOPPED, 413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 431
// HEADERS_TOO_LARGE, 500 INTERNAL (details only in the server log).
// Every POST and DELETE needs Content-Type: application/json, with or without a body. Stored values (a config, a report's
// metrics) are bounded: 32 levels, 4096 entries, 64 kB, finite numbers, no __proto__ keys.
import { Router, type Request } from 'express';
import { storageWithin } from './deadline.js';
import { queueAnswer, type QueueView } from './queue_view.js';
import type { StudyApi } from '../study/api_types.js';
import { askBody, emptyBody, enqueueBody, extendBody, leaseTokenBody, renameBody, reportBody, studyConfigBody, tellBody, trialNumberParam, viewCurvesQuery } from './requests.js';
import { streamStudyEvents, type SseOptions } from './sse.js';
import { sendJsonSlices } from './json_slices.js';

export interface RouteOptions extends SseOptions {
  /** Reported by /api/health. */
  version?: string;
  /** How long /api/ready waits for the storage before answering 503. Default READY_WAIT_MS. */
  readyWaitMs?: number;
  /** The study queue GET /api/queue shows (`serve --redis`); without it that route answers `{watched: false}`. */
  queue?: QueueView;
}

const studyId = (req: Request): string => String(req.params.id);

/** How long a readiness check (and a scrape of /metrics) waits for the storage: a probe gives up after a second or a few. */
export const READY_WAIT_MS = 2000;

export function apiRouter(api: StudyApi, opts: RouteOptions = {}): Router {
  const r = Router();

  r.get('/health', (_req, res) => {
    res.json({ ok: true, version: opts.version ?? null });
  });

  r.get('/ready', async (_req, res) => {
    const studies = await storageWithin(api.listStudies(), opts.readyWaitMs ?? READY_WAIT_MS, 'readiness check');
    res.json({ ok: true, studies: studies.length });
  });

  r.get('/queue', async (_req, res) => {
    res.json(await queueAnswer(opts.queue));
  });

  r.post('/studies', async (req, res) => {
    const study = await api.createStudy(studyConfigBody(req.body));
    res.status(201).location(`/api/studies/${encodeURIComponent(study.id)}`).json({ id: study.id, name: study.name });
  });

  r.get('/studies', async (_req, res) => {
    res.json({ studies: await api.listStudies() });
  });

  r.get('/studies/:id', async (req, res) => {
    // A study of 100,000 trials is ~90 MB of JSON: sent in slices, not stringified in one block of the event loop.
    const { trials, ...head } = await api.getStudyView(studyId(req), { curves: viewCurvesQuery(req.query.curves) });
    await sendJsonSlices(res, head, 'trials', trials);
  });

  r.delete('/studies/:id', async (req, res) => {
    emptyBody(req.body);
    res.json({ deleted: await api.deleteStudy(studyId(req)) });
  });

  r.post('/studies/:id/ask', async (req, res) => {
    const { count, ...opts } = askBody(req.body);
    res.json({ trials: await api.ask(studyId(req), count, opts) });
  });

  r.get('/studies/:id/trials/:number', async (req, res) => {
    res.json({ trial: await api.getTrialView(studyId(req), trialNumberParam(String(req.params.number))) });
  });

  r.post('/studies/:id/trials/:number/report', async (req, res) => {
    const trial = trialNumberParam(String(req.params.number));
    const { step, value, ...rest } = reportBody(req.body);
    res.json(await api.report(studyId(req), trial, step, value, rest));
  });

  r.post('/studies/:id/trials/:number/tell', async (req, res) => {
    const trial = trialNumberParam(String(req.params.number));
    const { outcome, ...opts } = tellBody(req.body);
    res.json({ trial: await api.tell(studyId(req), trial, outcome, opts) });
  });

  r.post('/studies/:id/trials/:number/release', async (req, res) => {
    const trial = trialNumberParam(String(req.params.number));
    const { token } = leaseTokenBody('INVALID_RELEASE', req.body);
    res.json({ trial: await api.release(studyId(req), trial, token) });
  });

  r.post('/studies/:id/trials/:number/heartbeat', async (req, res) => {
    const trial = trialNumberParam(String(req.params.number));
    const { token } = leaseTokenBody('INVALID_HEARTBEAT', req.body);
    res.json({ lease: await api.heartbeat(studyId(req), trial, token) });
  });

  r.post('/studies/:id/enqueue', async (req, res) => {
    const { schedule, renormMomentum } = enqueueBody(req.body);
    res.status(201).json({ trial: await api.enqueue(studyId(req), schedule, renormMomentum === undefined ? {} : { renormMomentum }) });
  });

  r.post('/studies/:id/extend', async (req, res) => {
    res.json({ study: await api.extendStudy(studyId(req), extendBody(req.body)) });
  });

  r.post('/studies/:id/stop', async (req, res) => {
    emptyBody(req.body);
    res.json({ study: await api.stopStudy(studyId(req)) });
  });

  r.post('/studies/:id/resume', async (req, res) => {
    emptyBody(req.body);
    res.json({ study: await api.resumeStudy(studyId(req)) });
  });

  r.post('/studies/:id/rename', async (req, res) => {
    res.json({ study: await api.renameStudy(studyId(req), renameBody(req.body).name) });
  });

  r.get('/studies/:id/best-schedule', async (req, res) => {
    res.json(await api.bestSchedule(studyId(req)));
  });

  r.get('/studies/:id/gp', async (req, res) => {
    res.json(await api.gpView(studyId(req)));
  });

  r.get('/studies/:id/importance', async (req, res) => {
    res.json(await api.importance(studyId(req)));
  });

  r.get('/studies/:id/events', async (req, res) => {
    await streamStudyEvents(api, studyId(req), req, res, opts);
  });

  return r;
}
