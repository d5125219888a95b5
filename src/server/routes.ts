// The /api routes: each one checks its input, calls exactly one StudyApi method and shapes the JSON answer.
//
//   GET  /api/health                                   {ok, version}                      (open even with a token)
//   POST /api/studies                 <study config>   201 {id, name}
//   GET  /api/studies                                  {studies: StudySummary[]}
//   GET  /api/studies/:id                              StudyView (= `renorm-tune show --json`); :id is an id or a name
//   POST /api/studies/:id/ask         {count?: 1-64}   {trials: AskedTrial[]} (id, number, role, params, schedule, lease,
//                                                      seed); never more than is left of budget.trials (fewer than count
//                                                      near the end), 409 BUDGET_EXHAUSTED once none is left
//   POST /api/studies/:id/trials/:trialId/report  {step, value, metrics?, token?}   {prune}; renews the lease
//   POST /api/studies/:id/trials/:trialId/tell    {value, token?} | {failed, token?} {trial}
//   GET  /api/studies/:id/best-schedule                ExportedSchedule (= `renorm-tune export`)
//   GET  /api/studies/:id/gp                           GpView
//   GET  /api/studies/:id/events                       text/event-stream of StudyEvent (`event: trial|report|study`):
//                                                      incremental; changes another process makes to the database
//                                                      arrive as `study` events with `refetch: true`
// Errors are {error: {code, message, field?}}: 400 INVALID_JSON / INVALID_CONFIG / INVALID_ENCODING / INVALID_URL,
// 401 UNAUTHORIZED, 403 HOST_NOT_ALLOWED / CROSS_SITE_REQUEST, 404 NOT_FOUND, 409 CONFLICT / BUDGET_EXHAUSTED / LEASE_LOST,
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

  r.post('/studies', async (req, res) => {
    const study = await api.createStudy(studyConfigBody(req.body));
    res.status(201).location(`/api/studies/${encodeURIComponent(study.id)}`).json({ id: study.id, name: study.name });
  });

  r.get('/studies', async (_req, res) => {
    res.json({ studies: await api.listStudies() });
  });

  r.get('/studies/:id', async (req, res) => {
    res.json(await api.getStudyView(studyId(req)));
  });

  r.post('/studies/:id/ask', async (req, res) => {
    const { count } = askBody(req.body);
    res.json({ trials: await api.ask(studyId(req), count) });
  });

  r.post('/studies/:id/trials/:trialId/report', async (req, res) => {
    const trialId = trialIdParam(String(req.params.trialId));
    const { step, value, ...rest } = reportBody(req.body);
    res.json(await api.report(studyId(req), trialId, step, value, rest));
  });

  r.post('/studies/:id/trials/:trialId/tell', async (req, res) => {
    const trialId = trialIdParam(String(req.params.trialId));
    const { outcome, token } = tellBody(req.body);
    const trial = await api.tell(studyId(req), trialId, outcome, token === undefined ? {} : { token });
    res.json({ trial });
  });

  r.get('/studies/:id/best-schedule', async (req, res) => {
    res.json(await api.bestSchedule(studyId(req)));
  });

  r.get('/studies/:id/gp', async (req, res) => {
    res.json(await api.gpView(studyId(req)));
  });

  r.get('/studies/:id/events', async (req, res) => {
    await streamStudyEvents(api, studyId(req), req, res, opts);
  });

  return r;
}
