// The /api routes: each one checks its input, calls exactly one StudyApi method and shapes the JSON answer.
//
//   GET  /api/health                                   {ok, version}                      (open even with a token)
//   POST /api/studies                 <study config>   201 {id, name}
//   GET  /api/studies                                  {studies: StudySummary[]}
//   GET  /api/studies/:id                              StudyView (= `renorm-tune show --json`)
//   POST /api/studies/:id/ask         {count?: 1-64}   {trials: [{id, params, schedule}]}; an external study gets at
//                                                      most what is left of budget.trials (fewer than count near the end),
//                                                      409 BUDGET_EXHAUSTED once none is left
//   POST /api/studies/:id/trials/:trialId/report  {step, value, metrics?}   {prune}
//   POST /api/studies/:id/trials/:trialId/tell    {value} | {failed}        {trial}
//   GET  /api/studies/:id/best-schedule                ExportedSchedule (= `renorm-tune export`)
//   GET  /api/studies/:id/gp                           GpView
//   GET  /api/studies/:id/events                       text/event-stream of StudyEvent (`event: trial|study`); changes
//                                                      another process makes to the database arrive within ~1 s as
//                                                      `study` events (refetch the study to see what changed)
// Errors are {error: {code, message, field?}}: 400 INVALID_JSON / INVALID_CONFIG / INVALID_ENCODING / INVALID_URL,
// 401 UNAUTHORIZED, 403 HOST_NOT_ALLOWED / CROSS_SITE_REQUEST, 404 NOT_FOUND, 409 CONFLICT / BUDGET_EXHAUSTED,
// 413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 431 HEADERS_TOO_LARGE, 500 INTERNAL (details only in the server log).
// Every POST needs Content-Type: application/json, with or without a body. Stored values (a config, a report's
// metrics) are bounded: 32 levels, 4096 entries, 64 kB, finite numbers, no __proto__ keys.
import { Router, type Request } from 'express';
import type { StudyApi } from '../study/api_types.js';
import { askBody, reportBody, studyConfigBody, tellBody, trialIdParam } from './requests.js';
import { streamStudyEvents, type SseOptions } from './sse.js';

export interface RouteOptions extends SseOptions {
  /** Reported by /api/health. */
  version?: string;
}

const studyId = (req: Request): string => String(req.params.id);

export function apiRouter(api: StudyApi, opts: RouteOptions = {}): Router {
  const r = Router();

  r.get('/health', (_req, res) => {
    res.json({ ok: true, version: opts.version ?? null });
  });

  r.post('/studies', (req, res) => {
    const study = api.createStudy(studyConfigBody(req.body));
    res.status(201).location(`/api/studies/${encodeURIComponent(study.id)}`).json({ id: study.id, name: study.name });
  });

  r.get('/studies', (_req, res) => {
    res.json({ studies: api.listStudies() });
  });

  r.get('/studies/:id', (req, res) => {
    res.json(api.getStudyView(studyId(req)));
  });

  r.post('/studies/:id/ask', async (req, res) => {
    const { count } = askBody(req.body);
    const trials = await api.ask(studyId(req), count);
    res.json({ trials: trials.map((t) => ({ id: t.id, params: t.params, schedule: t.schedule })) });
  });

  r.post('/studies/:id/trials/:trialId/report', (req, res) => {
    const trialId = trialIdParam(String(req.params.trialId));
    const { step, value, metrics } = reportBody(req.body);
    res.json(api.report(studyId(req), trialId, step, value, metrics));
  });

  r.post('/studies/:id/trials/:trialId/tell', (req, res) => {
    const trialId = trialIdParam(String(req.params.trialId));
    const trial = api.tell(studyId(req), trialId, tellBody(req.body));
    res.json({ trial });
  });

  r.get('/studies/:id/best-schedule', (req, res) => {
    res.json(api.bestSchedule(studyId(req)));
  });

  r.get('/studies/:id/gp', async (req, res) => {
    res.json(await api.gpView(studyId(req)));
  });

  r.get('/studies/:id/events', (req, res) => {
    // Existence first, so an unknown study is a JSON 404 rather than an empty stream.
    api.getStudyView(studyId(req));
    streamStudyEvents(api, studyId(req), req, res, opts);
  });

  return r;
}
