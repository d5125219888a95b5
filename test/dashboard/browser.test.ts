// The dashboard in real Chromium against the real stack (StudyService over MemoryStorage, the express app, SSE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../src/server/index.js';
import { mountDashboard } from '../../src/server/dashboard.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import type { StudyService } from '../../src/study/service.js';
import { runSyntheticStudy, syntheticRun } from './fixtures/synthetic.js';
import { FakeStudyApi } from '../fixtures/fake_api.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { curves, fixtureStudy, rng } from './fixtures/study.js';
import type { QueueStatus } from '../../src/distributed/status.js';
import { HttpError } from '../../src/server/http_errors.js';
import type { QueueView } from '../../src/server/queue_view.js';
import type { StudyView } from '../../src/study/api_types.js';

const CHROMIUM = '/usr/bin/chromium';
const XSS = '<img src=x onerror="window.__xss=1">';

let browser: Browser;
let server: Server;
let emptyServer: Server;
let bigServer: Server;
let bigBase = '';
let base = '';
let emptyBase = '';
let service: StudyService;
let storage: MemoryStorage;
let studyId = '';
let evidenceStudyId = '';
let xssStudyId = '';
let bareStudyId = '';
let maxFloatStudyId = '';
let divergedStudyId = '';
let flatStudyId = '';
let failedStudyId = '';

function listen(app: ReturnType<typeof createApp>): Promise<[Server, string]> {
  return new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve([s, `http://127.0.0.1:${(s.address() as AddressInfo).port}`]));
  });
}

/** A page that records console errors, uncaught exceptions and any request that would leave this machine. */
async function watchedPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', ''].includes(u.hostname) && u.protocol !== 'blob:' && u.protocol !== 'data:') problems.push(`request left the machine: ${r.url()}`);
  });
  return { page, problems };
}

/**
 * Serves `studies` from a fixture API (with `queue` as the watched queue, if given) for one test: `fn` gets the base
 * URL and a watched page; both are closed after, whatever happens.
 */
async function onFixtureServer(studies: StudyView[], queue: QueueView | undefined, fn: (base: string, page: Page, problems: string[]) => Promise<void>): Promise<void> {
  const [fixtureServer, fixtureBase] = await listen(createApp(new FakeStudyApi(studies), { ui: mountDashboard, ...(queue ? { queue } : {}) }));
  const { page, problems } = await watchedPage();
  try {
    await fn(fixtureBase, page, problems);
  } finally {
    await page.close();
    fixtureServer.close();
  }
}

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The dashboard browser test needs Debian chromium at ${CHROMIUM} (apt-get install -y chromium); it is not installed.`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  const t0 = Date.now();
  storage = new MemoryStorage();
  service = createStudyService(storage);
  const s = await runSyntheticStudy(service, { name: 'synthetic-noniid-k1', rounds: 4, batch: 4, failOne: `${XSS} diverged` });
  studyId = s.studyId;
  evidenceStudyId = (await runSyntheticStudy(service, { name: 'synthetic-evidence', rounds: 2, batch: 4, finish: true })).studyId;
  process.stderr.write(`browser test: synthetic study of ${s.trials} trials in ${Date.now() - t0} ms\n`);
  // Names are validated by the config, but a database written by another tool may hold anything: store one directly.
  const valid = (await storage.getStudy(studyId))!.config;
  xssStudyId = (await storage.createStudy({ name: XSS, direction: 'maximize', config: { ...valid, name: 'x' } })).id;
  // An external client that only tells final values: no curves, no clip statistics.
  bareStudyId = (await service.createStudy(validateStudyConfig({ name: 'told-values-only', scenario: { dataset: 'mnist', steps: 100 }, budget: { trials: 4 }, executor: 'external', optimizer: { type: 'random' } }))).id;
  for (const t of await service.ask(bareStudyId, 3)) await service.tell(bareStudyId, t.id, { value: 0.5 + 0.1 * t.number });
  // A trainer that tells a diverged run as the largest float (a finite value, so the API takes it), reported and told.
  maxFloatStudyId = (await service.createStudy(validateStudyConfig({ name: 'diverged-to-max-float', executor: 'external', objective: { metric: 'val.loss', direction: 'minimize' }, totalSteps: 100, optimizer: { type: 'random' } }))).id;
  for (const t of await service.ask(maxFloatStudyId, 4)) {
    const value = t.number === 2 ? Number.MAX_VALUE : 0.5 + 0.1 * t.number;
    await service.report(maxFloatStudyId, t.id, 50, value);
    await service.tell(maxFloatStudyId, t.id, { value });
  }
  // One diverged loss of 1e30 among losses near 1, reported and told.
  divergedStudyId = (await service.createStudy(validateStudyConfig({ name: 'one-diverged-loss', executor: 'external', objective: { metric: 'val.loss', direction: 'minimize' }, totalSteps: 100, optimizer: { type: 'random' } }))).id;
  const losses = [0.92, 1.04, 0.98, 1e30, 1.11, 0.87, 1.0, 0.95];
  for (const t of await service.ask(divergedStudyId, losses.length)) {
    await service.report(divergedStudyId, t.id, 50, losses[t.number]!);
    await service.tell(divergedStudyId, t.id, { value: losses[t.number]! });
  }
  // Every trial scored the same: the model sees no variation, so importance has no shares to show.
  flatStudyId = (await service.createStudy(validateStudyConfig({ name: 'all-equal', executor: 'external', totalSteps: 100, budget: { trials: 20 }, optimizer: { type: 'random' } }))).id;
  for (const t of await service.ask(flatStudyId, 12)) await service.tell(flatStudyId, t.id, { value: 0.9 });
  // Every trial failed: nothing has a value.
  failedStudyId = (await service.createStudy(validateStudyConfig({ name: 'all-failed', executor: 'external', totalSteps: 100, optimizer: { type: 'random' } }))).id;
  for (const t of await service.ask(failedStudyId, 4)) await service.tell(failedStudyId, t.id, { failed: 'diverged' });
  [server, base] = await listen(createApp(service, { ui: mountDashboard }));
  [emptyServer, emptyBase] = await listen(createApp(createStudyService(new MemoryStorage()), { ui: mountDashboard }));
  // Hundreds of trials with long curves: too slow to make through the optimizer here, so served by a fixture API.
  const big = fixtureStudy(250, 11, 'big');
  const r = rng(5);
  // Long curves (1000 reports) for the trials that get drawn, short ones for the rest, to keep the payload small.
  const ranked = big.trials.filter((t) => t.value !== null).sort((a, b) => (b.value as number) - (a.value as number));
  for (const t of big.trials) if (t.intermediate.length) t.intermediate = curves(t.value ?? 0.85, 20_000, ranked.indexOf(t) < 12 || t.role !== 'search' ? 20 : 500, 0.08, r);
  [bigServer, bigBase] = await listen(createApp(new FakeStudyApi([big]), { ui: mountDashboard }));
});

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
  emptyServer?.close();
  bigServer?.close();
});

test('the landing page explains the empty state', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${emptyBase}/`);
  await page.getByText('No studies yet — run').waitFor();
  assert.match(await page.textContent('#studies') ?? '', /npx renorm-tune run configs\/quick\.json/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the landing page lists studies with progress and links to each, names as text', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/`);
  await page.waitForSelector('#study-table');
  const href = await page.getAttribute(`a[href*="${encodeURIComponent(studyId)}"]`, 'href');
  assert.equal(href, `study.html?id=${encodeURIComponent(studyId)}`);
  const row = await page.textContent(`tr[data-study-id="${studyId}"]`);
  assert.match(row ?? '', /synthetic-noniid-k1/);
  assert.match(row ?? '', /outside trainer · /, 'who trains it: an outside trainer over ask/tell');
  assert.match(row ?? '', /16 \/ 20/, 'progress is done / budget');
  assert.match(row ?? '', /\d+\.\d\d%/, 'accuracies in percent');
  const xssRow = page.locator(`tr[data-study-id="${xssStudyId}"] a`);
  assert.equal(await xssRow.textContent(), XSS);
  assert.equal(await page.locator('img').count(), 0, 'a study name became markup');
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  // The 5 s poll redraws only what changed: a link in focus (a selection being copied) stays so through a poll.
  await page.focus(`a[href*="${encodeURIComponent(studyId)}"]`);
  await page.waitForResponse((r) => new URL(r.url()).pathname === '/api/studies', { timeout: 10_000 });
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => (document.activeElement as HTMLAnchorElement | null)?.getAttribute('href')), `study.html?id=${encodeURIComponent(studyId)}`);
  await page.click(`a[href*="${encodeURIComponent(studyId)}"]`);
  await page.waitForURL(/study\.html\?id=/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the landing page shows the queue a server watches: workers, what each trains on and holds, studies, jobs, trials no live worker holds', async () => {
  const build = { version: '0.2.0', schema: 1 };
  const held = (number: number, owner: string, lastStep: number | null) => ({ studyName: 'brn-cifar', studyId: 'c1f4r', number, role: 'search' as const, owner, startedAt: '2026-12-07T04:00:00.000Z', leaseExpiresAt: '2026-12-07T05:00:00.000Z', lastStep });
  const status: QueueStatus = {
    redis: 'redis://:***@queue-host:6379', prefix: 'renorm-tune',
    coordinators: [
      { owner: 'head:3:coordinator-c', studyId: 'c1f4r', studyName: 'brn-cifar', ...build, otherBuild: false, inDatabase: true },
      { owner: 'lab:8:coordinator-d', studyId: 'e15e', studyName: 'elsewhere', ...build, otherBuild: false, inDatabase: false },
    ],
    workers: [
      { owner: 'gpu-1:41:worker-aaaaaa', slots: 2, backend: 'node-gpu', device: 'GPU', devices: ['0', '1'], ...build, otherBuild: false, training: [held(12, 'gpu-1:41:worker-aaaaaa', 400), held(13, 'gpu-1:41:worker-aaaaaa', null)] },
      { owner: 'old:5:worker-bbbbbb', slots: 4, version: '0.1.0', schema: 0, otherBuild: true, training: [] },
    ],
    orphans: [held(9, 'gone:7:worker-dead00', 150)],
    slots: 2,
    jobs: { waiting: 3, active: 2, delayed: 0 },
  };
  let answer: () => Promise<QueueStatus> = async () => status;
  await onFixtureServer([fixtureStudy(3, 3, 'brn-cifar')], { status: () => answer() }, async (fixtureBase, page, problems) => {
    await page.goto(`${fixtureBase}/`);
    await page.waitForSelector('#queue-workers');
    assert.equal(await page.locator('#queue').isVisible(), true);
    assert.equal(await page.textContent('#queue-summary'), "redis://:***@queue-host:6379 prefix 'renorm-tune' · 2 workers, 2 slots in all · jobs: 3 waiting for a worker, 2 taken");
    assert.equal(await page.locator('#queue-warning').count(), 0, 'a worker of this version is alive');
    const rows = await page.$$eval('#queue-workers tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.innerText)));
    assert.deepEqual(rows, [
      ['gpu-1:41:worker-aaaaaa', '2', 'node-gpu on the GPU, devices 0, 1', "'brn-cifar' #12 since 2026-12-07T04:00:00.000Z, at step 400\n'brn-cifar' #13 since 2026-12-07T04:00:00.000Z, no report yet", '0.2.0'],
      ['old:5:worker-bbbbbb', '4', "each study's backend", 'nothing', '0.1.0 (another build: refused)'],
    ]);
    assert.equal(await page.getAttribute('#queue-coordinators tr[data-owner="head:3:coordinator-c"] a', 'href'), 'study.html?id=c1f4r');
    assert.match(await page.textContent('#queue-coordinators tr[data-owner="lab:8:coordinator-d"]') ?? '', /elsewhere \(on another database\)/);
    assert.equal(await page.locator('#queue-coordinators tr[data-owner="lab:8:coordinator-d"] a').count(), 0);
    assert.match(await page.textContent('#queue-orphans') ?? '', /Trials held by no live worker \(gone or frozen\): 1\..*'brn-cifar' #9 since \S+, at step 150, lease of gone:7:worker-dead00 until 2026-12-07T05:00:00\.000Z/);
    // Every worker of this version leaves: the next look (every 5 s) warns that the trials wait.
    answer = async () => ({ ...status, workers: status.workers.filter((w) => w.otherBuild), slots: 0 });
    await page.waitForSelector('#queue-warning', { timeout: 15_000 });
    assert.match(await page.textContent('#queue-warning') ?? '', /^No worker of this version is alive: the one there runs another version, and 3 trials wait\. Start (npx )?renorm-tune worker /);
    // The command is set as code, its backticks gone.
    assert.match(await page.textContent('#queue-warning code') ?? '', /^(npx )?renorm-tune worker --db <this database> --redis \S+ --redis-prefix \S+$/);
    // Redis goes away: the next look (every 5 s) says so in the panel, and the studies stay listed.
    answer = async () => {
      throw new HttpError(503, 'QUEUE_UNAVAILABLE', "the queue's Redis at redis://:***@queue-host:6379 is unreachable (no answer within 3 s)");
    };
    await page.waitForSelector('#queue .status.error', { timeout: 15_000 });
    assert.match(await page.textContent('#queue .status.error') ?? '', /^Could not read the queue: the queue's Redis at .* is unreachable/);
    assert.equal(await page.locator('#study-table tbody tr').count(), 1);
    // The browser logs the 503 itself; nothing else went wrong.
    assert.deepEqual(problems.filter((p) => !/status of 503/.test(p)), []);
  });
});

test('the landing page of a server that watches no queue shows no queue panel', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/`);
  await page.waitForSelector('#study-table');
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/queue')));
  assert.equal(await page.locator('#queue').isHidden(), true);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a study page says when its coordinator is on the watched queue with no worker to train for it, and stops once one comes', async () => {
  const build = { version: '0.2.0', schema: 1 };
  const status = (workers: number): QueueStatus => ({
    redis: 'redis://queue-host:6379', prefix: 'lab', slots: workers, jobs: { waiting: 4, active: 0, delayed: 0 }, orphans: [],
    coordinators: [{ owner: 'head:3:coordinator-c', studyId: 's1', studyName: 'queued', ...build, otherBuild: false, inDatabase: true }],
    workers: Array.from({ length: workers }, (_, i) => ({ owner: `gpu-${i}:1:worker-aaaaaa`, slots: 1, ...build, otherBuild: false, training: [] })),
  });
  let workers = 0;
  await onFixtureServer([fixtureStudy(3, 5, 'queued')], { status: async () => status(workers) }, async (fixtureBase, page, problems) => {
    await page.goto(`${fixtureBase}/study.html?id=s1`);
    await page.waitForSelector('#queue-note:not([hidden])');
    assert.match(await page.textContent('#queue-note') ?? '', /^No worker is alive on the queue \(redis:\/\/queue-host:6379, prefix 'lab'\): this study's coordinator hands out trials, and they wait\. Start (npx )?renorm-tune worker --db <this database> --redis redis:\/\/queue-host:6379 --redis-prefix lab on a training machine\.$/);
    assert.equal(await page.locator('#queue-note code').count(), 1, 'the worker command, set as code');
    workers = 1;
    await page.waitForSelector('#queue-note[hidden]', { state: 'attached', timeout: 15_000 });
    assert.deepEqual(problems, []);
  });
});

test('a study stopped with `stop` says so on the landing page and in its header, with what lifts it; one stopped by a signal does not', async () => {
  const held = { ...fixtureStudy(3, 5, 'held'), state: 'STOPPED' as const, stopRequestedAt: '2026-12-07T10:00:00.000Z' };
  const words = /^stopped on request at 2026-12-07T10:00:00\.000Z \(until `(npx )?renorm-tune resume` or POST \.\.\.\/resume, a run under --unless-stopped leaves it so\)$/;
  await onFixtureServer([held], undefined, async (fixtureBase, page, problems) => {
    await page.goto(`${fixtureBase}/`);
    await page.waitForSelector('#study-table');
    const row = page.locator('tr[data-study-id="s1"]');
    assert.equal(await row.locator('.badge').textContent(), 'STOPPED');
    assert.match(await row.locator('.badge').getAttribute('title') ?? '', words);
    assert.equal(await row.locator('.held').textContent(), 'held until resume');
    assert.match(await row.textContent() ?? '', /built-in trainer · s1/, 'not the config\'s "local", which read as "on this machine" under a queue study');
    await page.goto(`${fixtureBase}/study.html?id=s1`);
    await page.waitForSelector('#trials tbody tr');
    assert.match(await page.getAttribute('#study-state', 'title') ?? '', words);
    const meta = (await page.textContent('#study-meta')) ?? '';
    // The commands it quotes are drawn as code (they showed as raw backticks).
    assert.match(meta.split(' · ')[0]!, new RegExp(words.source.replace(/`/g, '')));
    assert.deepEqual(await page.locator('#study-meta code').allTextContents(), ['npx renorm-tune resume']);
    assert.equal(meta.split(' · ')[1], 'built-in trainer', 'no trial names who trains it: the config\'s trainer, in the landing page\'s words');
    assert.deepEqual(problems, []);
  });
  await onFixtureServer([{ ...held, stopRequestedAt: null }], undefined, async (fixtureBase, page, problems) => {
    await page.goto(`${fixtureBase}/`);
    await page.waitForSelector('#study-table');
    assert.equal(await page.locator('tr[data-study-id="s1"] .held').count(), 0);
    assert.equal(await page.locator('tr[data-study-id="s1"] .badge').getAttribute('title'), null);
    await page.goto(`${fixtureBase}/study.html?id=s1`);
    await page.waitForSelector('#trials tbody tr');
    assert.doesNotMatch((await page.textContent('#study-meta')) ?? '', /stopped with/);
    assert.deepEqual(problems, []);
  });
});

test('a trial out with an outside trainer: its detail says whose lease it is and until when, no worker column', async () => {
  const study = fixtureStudy(3, 9, 'outside');
  const running = study.trials.find((t) => t.state === 'RUNNING')!;
  running.lease = { owner: 'external:0123456789abcdef', token: 1, expiresAt: '2026-12-07T06:00:00.000Z' };
  await onFixtureServer([study], undefined, async (fixtureBase, page, problems) => {
    await page.goto(`${fixtureBase}/study.html?id=s1`);
    await page.locator('#trials tbody tr.state-row-running').click();
    await page.waitForFunction(() => document.querySelector('#detail-title')?.textContent?.includes('RUNNING'));
    const detail = await page.$$eval('#detail-params > *', (els) => els.map((e) => e.textContent));
    assert.equal(detail[detail.indexOf('lease') + 1], "an outside trainer's, until 2026-12-07T06:00:00.000Z");
    assert.ok(!detail.includes('training on'));
    assert.equal(await page.locator('#trials th[data-key="worker"]').count(), 0);
    assert.deepEqual(problems, []);
  });
});

interface CanvasReport {
  id: string;
  datasets: number;
  points: number;
  inked: number;
}

/** For every chart on the page: its datasets, data points and how many canvas pixels are painted. */
async function chartReport(page: Page): Promise<CanvasReport[]> {
  return page.evaluate(() => {
    const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: Array<{ data: unknown[] }> } } | undefined } }).Chart;
    return Array.from(document.querySelectorAll('canvas')).map((c) => {
      const chart = C.getChart(c);
      const ctx = c.getContext('2d')!;
      const img = ctx.getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < img.length; i += 4) if (img[i] > 0) inked++;
      const box = c.closest('.chart-box') as HTMLElement | null;
      return {
        id: box?.id || (box?.closest('.mini')?.querySelector('h3')?.textContent ?? '?'),
        datasets: chart?.data.datasets.length ?? 0,
        points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0,
        inked,
      };
    });
  });
}

test('the study page draws every chart from the real study, with no console errors', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=${encodeURIComponent(studyId)}`);
  await page.waitForSelector('#trials tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('#gp canvas').length > 0, undefined, { timeout: 20_000 });
  await page.waitForTimeout(300);
  const report = await chartReport(page);
  const byId = new Map(report.map((r) => [r.id, r]));
  for (const id of ['chart-history', 'chart-rmax', 'chart-dmax', 'chart-acc', 'chart-gap', 'chart-clip', 'chart-clip-d', 'chart-parallel']) {
    const r = byId.get(id);
    assert.ok(r, `${id} has no canvas`);
    assert.ok(r.datasets > 0 && r.points > 0, `${id} has no data: ${JSON.stringify(r)}`);
    assert.ok(r.inked > 2000, `${id} looks blank (${r.inked} painted pixels)`);
  }
  const slices = report.filter((r) => ['warmup', 'rmaxFinal', 'dmaxFinal', 'shape'].includes(r.id));
  assert.ok(slices.length >= 8, `expected slice and GP charts per parameter, got ${JSON.stringify(report.map((r) => r.id))}`);
  for (const r of slices) assert.ok(r.points > 0 && r.inked > 1000, `small chart ${r.id} is empty`);
  // The search is still running: final validation is explained, not drawn empty.
  assert.match((await page.textContent('#chart-final .note')) ?? '', /Once the search budget is spent, the study's asks hand out race runs and then final runs/);
  // The failure reason holding markup is shown as text in the table's tooltip and the trial detail.
  const failedRow = page.locator('#trials tbody tr.state-row-fail');
  assert.equal(await failedRow.count(), 1);
  assert.equal(await failedRow.getAttribute('title'), `${XSS} diverged`);
  await failedRow.click();
  await page.waitForSelector('#trial-detail:not([hidden])');
  assert.equal(await page.textContent('#detail-failure'), `Failure: ${XSS} diverged`);
  assert.equal(await page.locator('img').count(), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  assert.deepEqual(problems, []);
  await page.close();
});

test('"Export best schedule" downloads exactly the API response; "Download CSV" has one row per trial', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=${encodeURIComponent(studyId)}`);
  await page.waitForSelector('#trials tbody tr');
  const [download, response] = await Promise.all([
    page.waitForEvent('download'),
    page.waitForResponse((r) => r.url().endsWith('/best-schedule')),
    page.click('#export-best'),
  ]);
  const got = readFileSync((await download.path())!, 'utf8');
  assert.equal(got, await response.text(), 'the downloaded file differs from the bytes GET /best-schedule returned');
  // An independent request gives the same export, up to the time it was made.
  const api = JSON.parse(await (await fetch(`${base}/api/studies/${studyId}/best-schedule`)).text());
  const mine = JSON.parse(got);
  assert.equal(mine.format, 'renorm-tune/schedule');
  delete api.provenance.exportedAt;
  delete mine.provenance.exportedAt;
  assert.deepEqual(mine, api);
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = readFileSync((await csvDl.path())!, 'utf8').trim().split('\r\n');
  const view = (await (await fetch(`${base}/api/studies/${studyId}`)).json()) as { trials: unknown[] };
  assert.equal(csv.length, view.trials.length + 1);
  assert.match(csv[0], /^id,number,role,state,value,param_/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the page asks for the lean view (curves=top); a trial opened whose curve it left out is fetched and drawn', async () => {
  const { page, problems } = await watchedPage();
  const viewed = page.waitForResponse((r) => r.url() === `${base}/api/studies/${studyId}?curves=top`);
  await page.goto(`${base}/study.html?id=${encodeURIComponent(studyId)}`);
  const lean = (await (await viewed).json()) as { curveTrials: number[]; trials: Array<{ id: number; number: number }> };
  await page.waitForSelector('#trials tbody tr');
  const full = (await (await fetch(`${base}/api/studies/${studyId}`)).json()) as { trials: Array<{ id: number; number: number; intermediate: unknown[] }> };
  const left = full.trials.find((t) => t.intermediate.length > 0 && !lean.curveTrials.includes(t.id));
  assert.ok(left, `every trial with a curve was sent with it (${lean.curveTrials.length} of ${lean.trials.length})`);
  const clipPoints = () => page.evaluate(() => {
    const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: Array<{ data: unknown[] }> } } | undefined } }).Chart;
    const canvas = document.querySelector('#chart-clip canvas') as HTMLCanvasElement | null;
    return canvas ? C.getChart(canvas)!.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0;
  });
  const fetched = page.waitForResponse((r) => r.url() === `${base}/api/studies/${studyId}/trials/${left.number}`);
  await page.click(`#trials tbody tr[data-trial-id="${left.id}"]`);
  await fetched;
  await page.waitForFunction(() => document.querySelector('#chart-clip canvas') !== null);
  assert.match((await page.textContent('#clip-trial')) ?? '', new RegExp(`#${left.number}$`));
  assert.ok((await clipPoints()) > 0, 'the opened trial\'s clip chart is drawn from its fetched curve');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the trial table sorts by value and by parameter when a header is clicked', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=${encodeURIComponent(studyId)}`);
  await page.waitForSelector('#trials tbody tr');
  const ids = () => page.$$eval('#trials tbody tr', (rows) => rows.map((r) => Number(r.getAttribute('data-trial-id'))));
  const view = (await (await fetch(`${base}/api/studies/${studyId}`)).json()) as { trials: Array<{ id: number; number: number; value: number | null; params: Record<string, number> }> };
  const withValue = view.trials.filter((t) => t.value !== null);
  const noValue = view.trials.filter((t) => t.value === null).sort((a, b) => a.number - b.number).map((t) => t.id);
  // Equal values (two trials can reach the same accuracy) keep trial order in both directions.
  const byValue = (sign: 1 | -1) => [...withValue].sort((a, b) => sign * ((a.value as number) - (b.value as number)) || a.number - b.number).map((t) => t.id);
  await page.click('#trials th[data-key="value"]');
  assert.deepEqual(await ids(), [...byValue(-1), ...noValue], 'first click: best value first (maximize), missing last');
  await page.click('#trials th[data-key="value"]');
  assert.deepEqual(await ids(), [...byValue(1), ...noValue]);
  await page.click('#trials th[data-key="param:warmup"]');
  const byWarmup = [...view.trials].sort((a, b) => a.params.warmup - b.params.warmup || a.number - b.number).map((t) => t.id);
  assert.deepEqual(await ids(), byWarmup);
  assert.equal(await page.getAttribute('#trials th[data-key="param:warmup"]', 'aria-sort'), 'ascending');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a finished study shows its paired final validation: per-seed differences with their intervals, and the verdict as the headline', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=${encodeURIComponent(evidenceStudyId)}`);
  await page.waitForSelector('#chart-final[data-state="chart"]');
  await page.waitForTimeout(300);
  const fin = (await chartReport(page)).find((r) => r.id === 'chart-final');
  assert.ok(fin && fin.datasets === 4 && fin.points > 0 && fin.inked > 2000, `the final chart is empty: ${JSON.stringify(fin)}`);
  assert.match((await page.textContent('#final-foot')) ?? '', /Tuned vs paper: (better than|worse than|indistinguishable from) the paper schedule: [+−±]\d+\.\d\d pts \(95% CI/);
  assert.match((await page.textContent('#cards')) ?? '', /Tuned vs paper, test set(Better|Worse|Indistinguishable)/);
  assert.equal(await page.textContent('#study-state'), 'COMPLETE');
  assert.deepEqual(problems, []);
  await page.close();
});

/** Study `id`'s page, once its trial table is drawn and its stream is live, counting the page's fetches of the study's view. */
async function openLive(id: string) {
  const { page, problems } = await watchedPage();
  const viewPath = `/api/studies/${encodeURIComponent(id)}`;
  let fetches = 0;
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === viewPath) fetches++;
  });
  await page.goto(`${base}/study.html?id=${encodeURIComponent(id)}`);
  await page.waitForSelector('#trials tbody tr');
  await page.waitForSelector('#live.on');
  return { page, problems, viewFetches: () => fetches };
}

/** Asks, reports and tells one synthetic trial of the main study through `svc`, and waits for the open page to list it. */
async function trainOneLive(page: Page, svc: StudyService) {
  const before = await page.locator('#trials tbody tr').count();
  const [t] = await svc.ask(studyId, 1);
  const run = syntheticRun(t!.schedule);
  for (const r of run.reports) await svc.report(studyId, t!.id, r.step, r.value, r.metrics);
  await svc.tell(studyId, t!.id, { value: run.value });
  await page.waitForFunction((n) => document.querySelectorAll('#trials tbody tr').length === n, before + 1, { timeout: 10_000 });
  return t!;
}

test('a trial told while the page is open appears live over server-sent events', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=${encodeURIComponent(studyId)}`);
  await page.waitForSelector('#trials tbody tr');
  await page.waitForSelector('#live.on');
  const t = await trainOneLive(page, service);
  assert.ok(await page.locator(`#trials tbody tr[data-trial-id="${t.id}"]`).count());
  assert.deepEqual(problems, []);
  await page.close();
});

test('a trial asked, reported and told by another process appears live, without the page reloading the study', async () => {
  // A second service over the same store: to the page's server, everything it does is another process's change.
  const other = createStudyService(storage);
  const { page, problems, viewFetches } = await openLive(studyId);
  assert.equal(viewFetches(), 1, 'the page loaded the study once');
  const t = await trainOneLive(page, other);
  await page.waitForSelector(`#trials tbody tr[data-trial-id="${t.id}"].state-row-complete`, { timeout: 10_000 });
  assert.equal(viewFetches(), 1, 'the change arrived as trial and report events: the study was not fetched again');
  assert.deepEqual(problems, []);
  other.close();
  await page.close();
});

test('a trial told while the page\'s first view is on its way (read before the tell) shows as told once the view is in', async () => {
  const { page, problems } = await watchedPage();
  const [t] = await service.ask(studyId, 1);
  // The view is read now, with the trial running, and held until the tell's event has reached the page.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let read!: () => void;
  const wasRead = new Promise<void>((r) => (read = r));
  await page.route((u) => u.pathname === `/api/studies/${encodeURIComponent(studyId)}`, async (route) => {
    const response = await route.fetch();
    const body = await response.text();
    read();
    await held;
    await route.fulfill({ response, body });
  });
  await page.goto(`${base}/study.html?id=${encodeURIComponent(studyId)}`);
  await wasRead;
  await page.waitForSelector('#live.on');
  await service.tell(studyId, t!.id, { value: 0.5 });
  await page.waitForFunction((id) => document.body.dataset.lastEvent === `trial ${id} COMPLETE`, t!.id, { timeout: 10_000 });
  release();
  await page.waitForSelector(`#trials tbody tr[data-trial-id="${t!.id}"]`);
  assert.ok(await page.locator(`#trials tbody tr[data-trial-id="${t!.id}"].state-row-complete`).count(), 'the trial shows complete, not running');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the final-validation verdict written while the page is open appears live, without the page reloading the study', async () => {
  const id = (await service.createStudy(validateStudyConfig({ name: 'verdict-arrives-live', executor: 'external', totalSteps: 100, optimizer: { type: 'random' } }))).id;
  for (const t of await service.ask(id, 2)) await service.tell(id, t.id, { value: 0.6 });
  const { page, problems, viewFetches } = await openLive(id);
  assert.doesNotMatch((await page.textContent('#cards')) ?? '', /Tuned vs paper, test set/);
  // What the evidence phase writes at its end (here: the report of the study that ran one).
  await service.setStudyAttr(id, 'finalValidation', (await storage.getStudy(evidenceStudyId))!.attrs.finalValidation);
  await page.waitForFunction(() => /Tuned vs paper, test set(Better|Worse|Indistinguishable)/.test(document.querySelector('#cards')?.textContent ?? ''), undefined, { timeout: 10_000 });
  await page.waitForSelector('#chart-final[data-state="chart"]');
  assert.equal(viewFetches(), 1, 'the report arrived in a study event: the study was not fetched again');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a study deleted by another process while its page is open: the page says so, keeps what it showed, and fetches nothing more', async () => {
  const other = createStudyService(storage);
  const doomed = (await service.createStudy(validateStudyConfig({ name: 'deleted-while-open', executor: 'external', totalSteps: 100, optimizer: { type: 'random' } }))).id;
  for (const t of await service.ask(doomed, 2)) await service.tell(doomed, t.id, { value: 0.6 });
  const { page, problems } = await watchedPage();
  const watchedPaths = [`/api/studies/${doomed}`, `/api/studies/${doomed}/events`];
  const apiCalls: string[] = [];
  page.on('request', (r) => {
    if (watchedPaths.includes(new URL(r.url()).pathname)) apiCalls.push(new URL(r.url()).pathname);
  });
  await page.goto(`${base}/study.html?id=${encodeURIComponent(doomed)}`);
  await page.waitForSelector('#trials tbody tr');
  await page.waitForSelector('#live.on');
  // The panels' first load done (the importance panel is drawn last): a fetch still under way would 404 after the delete.
  await page.waitForSelector('#importance[data-state]');
  const before = apiCalls.length;
  await other.deleteStudy(doomed);
  await page.waitForSelector('#live.off', { timeout: 10_000 });
  assert.equal(await page.textContent('#live'), 'deleted');
  assert.match((await page.textContent('#status')) ?? '', /^This study was deleted .*the page shows it as it was last received/);
  assert.equal(await page.locator('#trials tbody tr').count(), 2, 'what the page showed stays');
  await page.waitForTimeout(4000); // past the EventSource's retry (3 s): it must not reconnect
  assert.deepEqual(apiCalls.slice(before), [], 'no refetch of the view and no reconnect of the stream');
  assert.equal(await page.textContent('#live'), 'deleted');
  assert.deepEqual(problems, []);
  other.close();
  await page.close();
});

test('a study opened by name follows its id: renamed while its page is open, the page goes on live (it lost the study at the next fetch)', async () => {
  const other = createStudyService(storage);
  const id = (await service.createStudy(validateStudyConfig({ name: 'named-while-open', executor: 'external', totalSteps: 100, optimizer: { type: 'random' } }))).id;
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=named-while-open`);
  await page.waitForSelector('#live.on');
  await page.waitForFunction((want) => new URL(location.href).searchParams.get('id') === want, id);
  await page.waitForSelector('#live.on');
  await other.renameStudy(id, 'renamed-while-open');
  const [t] = await other.ask(id, 1);
  await other.tell(id, t!.id, { value: 0.7 });
  await page.waitForSelector(`#trials tbody tr[data-trial-id="${t!.id}"].state-row-complete`, { timeout: 10_000 });
  await page.waitForFunction(() => document.querySelector('#study-name')?.textContent === 'renamed-while-open', undefined, { timeout: 10_000 });
  assert.equal(await page.textContent('#status'), '', 'no error');
  assert.deepEqual(problems, []);
  other.close();
  await page.close();
});

test('unknown study, study without trials, study without curves or GP and an unreachable API are explained, never blank', async () => {
  const { page } = await watchedPage();
  await page.goto(`${base}/study.html?id=no-such-study`);
  await page.waitForSelector('#status.error');
  assert.match((await page.textContent('#status')) ?? '', /^No such study: study 'no-such-study' \(neither an id nor a name; npx renorm-tune studies lists them\) not found/);
  assert.equal(await page.textContent('#live'), 'not found', 'not "reconnecting…" for good');
  await page.goto(`${base}/study.html?id=${encodeURIComponent(xssStudyId)}`);
  await page.waitForSelector('#panels:not([hidden])');
  assert.equal(await page.textContent('#study-name'), XSS);
  assert.match((await page.textContent('#chart-history .note')) ?? '', /No trials yet/);
  assert.equal(await page.locator('img').count(), 0);
  await page.goto(`${base}/study.html?id=${encodeURIComponent(bareStudyId)}`);
  await page.waitForSelector('#chart-history[data-state="chart"]');
  assert.match((await page.textContent('#chart-acc .note')) ?? '', /No learning curves: none of the trials this chart draws \(the best 8 search trials, the baselines and any unfinished trial\) reported intermediate values/);
  assert.match((await page.textContent('#chart-clip .note')) ?? '', /reported no clip statistics/);
  assert.equal(await page.isVisible('#external-note'), true);
  // The view carries only the charted trials' curves: the note speaks of those, and points at a trial's own detail.
  assert.match((await page.textContent('#external-note')) ?? '', /none of those the charts draw \(the best 8 search trials, the baselines and any unfinished trial\) reported learning curves.*a trial opened from the table shows any it reported/);
  await page.waitForSelector('#gp .note');
  assert.match((await page.textContent('#gp .note')) ?? '', /GP's view is unavailable/, 'a random-search study has no GP to show');
  await page.route('**/api/**', (route) => route.abort());
  await page.goto(`${base}/`);
  await page.waitForSelector('#status.error');
  assert.match((await page.textContent('#status')) ?? '', /cannot reach the renorm-tune API — is npx renorm-tune serve \(or run --port\) still running\?/);
  assert.deepEqual(await page.locator('#status code').allTextContents(), ['npx renorm-tune serve', 'run --port'], 'the commands set as code');
  await page.close();
});

test('a value of Number.MAX_VALUE is drawn at the chart\'s edge: the page renders instead of the tab dying', async () => {
  const { page, problems } = await watchedPage();
  let crashed = false;
  page.on('crash', () => { crashed = true; });
  await page.goto(`${base}/study.html?id=${encodeURIComponent(maxFloatStudyId)}`);
  await page.waitForFunction(() => document.body.dataset.refreshMs !== undefined);
  assert.equal(crashed, false, 'chart.js ran out of memory drawing an axis up to Number.MAX_VALUE');
  const yRange = await page.evaluate(() => {
    const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { scales: { y: { min: number; max: number } } } | undefined } }).Chart;
    const { min, max } = C.getChart(document.querySelector('#chart-history canvas') as HTMLCanvasElement)!.scales.y;
    return { min, max };
  });
  assert.ok(yRange.min <= 0.5 && yRange.max >= 1e300 && yRange.max < 1e301, `the history axis should reach the chart's edge at 1e300, not Number.MAX_VALUE: ${JSON.stringify(yRange)}`);
  assert.equal(await page.locator('#trials tbody tr').count(), 4);
  assert.deepEqual(problems, []);
  await page.close();
});

test('one value of 1e30 among values near 1 goes off the scale: the ordinary points spread over the axis, the outlier is pinned and named', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=${encodeURIComponent(divergedStudyId)}`);
  await page.waitForSelector('#chart-history[data-state="chart"]');
  await page.waitForFunction(() => document.body.dataset.refreshMs !== undefined);
  const charts = await page.evaluate(() => {
    type Meta = { data: Array<{ y: number }> };
    type Chart = { scales: { y: { min: number; max: number } }; chartArea: { top: number; bottom: number }; data: { datasets: Array<{ label: string; data: Array<{ y: number; beyond?: number }> }> }; getDatasetMeta(i: number): Meta };
    const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): Chart | undefined } }).Chart;
    const out: Record<string, { min: number; max: number; spread: number; pinned: number[]; note: string }> = {};
    for (const id of ['chart-history', 'chart-acc']) {
      const chart = C.getChart(document.querySelector(`#${id} canvas`) as HTMLCanvasElement)!;
      const ys: number[] = [];
      const pinned: number[] = [];
      chart.data.datasets.forEach((d, i) => {
        if (!d.label.startsWith('trial') && id === 'chart-history') return;
        d.data.forEach((p, j) => (typeof p.beyond === 'number' ? pinned.push(p.beyond) : ys.push(chart.getDatasetMeta(i).data[j]!.y)));
      });
      const { top, bottom } = chart.chartArea;
      out[id] = { min: chart.scales.y.min, max: chart.scales.y.max, spread: (Math.max(...ys) - Math.min(...ys)) / (bottom - top), pinned, note: document.querySelector(`#${id} .off-scale`)?.textContent ?? '' };
    }
    return out;
  });
  const h = charts['chart-history']!;
  assert.ok(h.max < 2 && h.min > 0.5, `the history's axis should span the ordinary values near 1, not reach 1e30: ${JSON.stringify(h)}`);
  assert.ok(h.spread > 0.6, `the ordinary points should spread over the axis, not lie on one line: ${JSON.stringify(h)}`);
  assert.deepEqual(h.pinned, [1e30]);
  assert.equal(h.note, '1 value off the scale: 1e30');
  const acc = charts['chart-acc']!;
  assert.ok(acc.max < 2 && acc.spread > 0.6, `the loss curves too: ${JSON.stringify(acc)}`);
  assert.equal(acc.note, '1 value off the scale: 1e30');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a study whose trials all scored the same says importance is unavailable instead of drawing equal bars', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=${encodeURIComponent(flatStudyId)}`);
  await page.waitForFunction(() => /Importance is unavailable/.test(document.querySelector('#importance .note')?.textContent ?? ''), undefined, { timeout: 20_000 });
  assert.equal(await page.textContent('#importance .note'), 'Importance is unavailable: the model sees no variation: every finished trial has the same value.');
  assert.equal(await page.isVisible('#importance canvas'), false, 'no bars beside the message');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a study with zero trials and one whose trials all failed: every chart explains itself, no console errors', async () => {
  for (const [id, history] of [[xssStudyId, /No trials yet/], [failedStudyId, /No finished trial has a value yet/]] as const) {
    const { page, problems } = await watchedPage();
    await page.goto(`${base}/study.html?id=${encodeURIComponent(id)}`);
    await page.waitForFunction(() => document.body.dataset.refreshMs !== undefined);
    await page.waitForSelector('#importance .note');
    assert.match((await page.textContent('#chart-history .note')) ?? '', history);
    for (const box of ['chart-acc', 'chart-clip', 'chart-parallel', 'importance']) {
      assert.equal(await page.getAttribute(`#${box}`, 'data-state'), 'note', `${box} should say why it is empty (${id})`);
    }
    assert.deepEqual(problems, [], `study ${id}`);
    await page.close();
  }
});

test("an external study reporting a loss draws its learning curves on the loss's axis, not as an accuracy in percent", async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${base}/study.html?id=${encodeURIComponent(maxFloatStudyId)}`);
  await page.waitForSelector('#chart-acc[data-state="chart"]');
  const axis = await page.evaluate(() => {
    const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { options: { scales: { y: { title: { text: string } } } }; scales: { y: { ticks: Array<{ label: string }> } } } | undefined } }).Chart;
    const chart = C.getChart(document.querySelector('#chart-acc canvas') as HTMLCanvasElement)!;
    return { title: chart.options.scales.y.title.text, ticks: chart.scales.y.ticks.map((t) => t.label) };
  });
  assert.equal(axis.title, 'val.loss (lower is better)');
  assert.ok(!axis.ticks.some((t) => String(t).endsWith('%')), `a loss is not a percentage: ${JSON.stringify(axis.ticks)}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a study of 250 trials, the best with 1000 reports each: curves decimated, only top trials drawn, every row listed', async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${bigBase}/study.html?id=s1`);
  await page.waitForSelector('#trials tbody tr');
  await page.waitForFunction(() => document.body.dataset.refreshMs !== undefined);
  const lines = await page.evaluate(() => {
    const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: Array<{ data: unknown[] }> } } | undefined } }).Chart;
    const out: Record<string, { datasets: number; maxPoints: number }> = {};
    for (const id of ['chart-acc', 'chart-gap', 'chart-clip', 'chart-parallel', 'chart-rmax']) {
      const ds = C.getChart(document.querySelector(`#${id} canvas`) as HTMLCanvasElement)!.data.datasets;
      out[id] = { datasets: ds.length, maxPoints: Math.max(...ds.map((d) => d.data.length)) };
    }
    return out;
  });
  // The top 8, the 2 baselines and the one unfinished trial, followed live.
  assert.ok(lines['chart-acc'].datasets <= 11 && lines['chart-gap'].datasets <= 11, `too many curves: ${JSON.stringify(lines)}`);
  assert.ok(lines['chart-acc'].maxPoints <= 200 && lines['chart-gap'].maxPoints <= 200 && lines['chart-clip'].maxPoints <= 200, `curves not decimated: ${JSON.stringify(lines)}`);
  assert.ok(lines['chart-parallel'].datasets <= 100);
  assert.ok(lines['chart-rmax'].datasets <= 7);
  assert.equal(await page.locator('#trials tbody tr').count(), 252);
  process.stderr.write(`browser test: 252-trial study fetched and drawn in ${await page.evaluate(() => document.body.dataset.refreshMs)} ms\n`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a study of 2,500 trials: the table shows a page of 500 rows at a time, the slices a sample of 2,000 trials', async () => {
  const huge = fixtureStudy(2500, 13, 'huge');
  const [hugeServer, hugeBase] = await listen(createApp(new FakeStudyApi([huge]), { ui: mountDashboard }));
  const { page, problems } = await watchedPage();
  try {
    await page.goto(`${hugeBase}/study.html?id=s1`);
    await page.waitForSelector('#trials tbody tr');
    await page.waitForFunction(() => document.body.dataset.refreshMs !== undefined);
    const numbers = () => page.$$eval('#trials tbody tr', (rows) => rows.map((r) => Number(r.querySelector('td')!.textContent)));
    const where = () => page.locator('#trials-pager .pager-where').textContent();
    assert.equal((await numbers()).length, 500);
    assert.equal(await where(), 'rows 1–500 of 2502 (page 1 of 6)');
    assert.ok(await page.locator('#trials-pager button', { hasText: 'previous' }).isDisabled());
    await page.locator('#trials-pager button', { hasText: 'next' }).click();
    assert.equal(await where(), 'rows 501–1000 of 2502 (page 2 of 6)');
    assert.deepEqual((await numbers()).slice(0, 2), [500, 501]);
    // A new sort starts at its first page: the best trial first.
    await page.locator('#trials th[data-key="value"]').click();
    assert.equal(await where(), 'rows 1–500 of 2502 (page 1 of 6)');
    const best = Math.max(...huge.trials.filter((t) => t.state === 'COMPLETE' && t.value !== null).map((t) => t.value as number));
    const first = huge.trials.find((t) => t.value === best)!;
    assert.equal((await numbers())[0], first.number);
    for (let k = 0; k < 5; k++) await page.locator('#trials-pager button', { hasText: 'next' }).click();
    assert.equal(await where(), 'rows 2501–2502 of 2502 (page 6 of 6)');
    assert.ok(await page.locator('#trials-pager button', { hasText: 'next' }).isDisabled());
    // A trial picked in a chart (here the last point of the first slice: a late trial, far down the value order, on
    // its handler as a click calls it) turns the table to the page that holds it, highlighted.
    const picked = await page.evaluate(() => {
      type Click = (e: unknown, els: Array<{ datasetIndex: number; index: number }>) => void;
      const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: Array<{ data: Array<{ trialId: number }> }> }; options: { onClick: Click } } | undefined } }).Chart;
      const chart = C.getChart(document.querySelector('#slices canvas') as HTMLCanvasElement)!;
      const data = chart.data.datasets[0]!.data;
      chart.options.onClick({}, [{ datasetIndex: 0, index: data.length - 1 }]);
      return data[data.length - 1]!.trialId;
    });
    await page.waitForSelector(`#trials tbody tr.selected[data-trial-id="${picked}"]`, { timeout: 10_000 });
    const position = [...huge.trials].sort((x, y) => (y.value ?? -Infinity) - (x.value ?? -Infinity) || x.number - y.number).findIndex((t) => t.id === picked);
    const p = Math.floor(position / 500);
    assert.ok(p !== 5, 'the picked trial is on another page than the one shown');
    assert.equal(await where(), `rows ${500 * p + 1}–${Math.min(500 * p + 500, 2502)} of 2502 (page ${p + 1} of 6)`);
    const points = await page.evaluate(() => {
      const C = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: Array<{ data: unknown[] }> } } | undefined } }).Chart;
      return Array.from(document.querySelectorAll('#slices canvas')).map((c) => C.getChart(c as HTMLCanvasElement)!.data.datasets[0]!.data.length);
    });
    assert.ok(points.length >= 5 && points.every((n) => n === 2000), `points per slice: ${points}`);
    const withValue = huge.trials.filter((t) => t.value !== null && (t.state === 'COMPLETE' || t.state === 'PRUNED') && t.role === 'search').length;
    assert.equal(await page.locator('#slices-foot').textContent(), `Showing 2000 of ${withValue} trials: the best 500 and an even sample of the rest.`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    hugeServer.close();
  }
});

test('the header says what the trials trained on, and where tfjs-node-gpu found no GPU; a trial\'s detail says its own, and who trained it', async () => {
  const study = fixtureStudy(8, 17, 'devices');
  const finished = study.trials.filter((t) => t.state !== 'RUNNING');
  // Nine finished trials (both baselines among them): six on the GPU, two where tfjs-node-gpu found none, one on wasm.
  const on = [['node-gpu', 'GPU'], ['node-gpu', 'GPU'], ['node-gpu', 'CPU'], ['node-gpu', 'GPU'], ['wasm', 'CPU'], ['node-gpu', 'GPU'], ['node-gpu', 'CPU'], ['node-gpu', 'GPU'], ['node-gpu', 'GPU']] as const;
  finished.forEach((t, i) => {
    const [backend, device] = on[i]!;
    t.metrics = { backend, device, valAccuracy: t.value, trainedBy: `gpu-${i}:4${i}:worker-aaaaa${i}` };
  });
  const gpuless = finished.find((t) => t.metrics?.backend === 'node-gpu' && t.metrics.device === 'CPU')!;
  const running = study.trials.find((t) => t.state === 'RUNNING')!;
  const lease = { owner: 'gpu-9:49:worker-ffffff', token: 2, expiresAt: '2026-12-07T05:00:00.000Z' };
  running.lease = lease;
  await onFixtureServer([study], undefined, async (fixtureBase, page, problems) => {
    await page.goto(`${fixtureBase}/study.html?id=s1`);
    await page.waitForSelector('#trials tbody tr');
    const meta = (await page.textContent('#study-meta')) ?? '';
    assert.equal(finished.length, on.length);
    assert.match(meta, /^trained by 10 queue workers on 10 hosts · /, 'who trains it, not the config\'s word "local"');
    assert.match(meta, / · trained on node-gpu on the GPU \(6 trials\), node-gpu on the CPU \(2 trials\), wasm on the CPU \(1 trial\); node-gpu on the CPU: TensorFlow found no GPU on those machines · /);
    await page.locator(`#trials tbody tr[data-trial-id="${gpuless.id}"]`).click();
    await page.waitForSelector('#trial-detail:not([hidden])');
    const detail = await page.$$eval('#detail-params > *', (els) => els.map((e) => e.textContent));
    const at = detail.indexOf('trained on');
    assert.ok(at >= 0, `no "trained on" in the detail: ${JSON.stringify(detail)}`);
    assert.equal(detail[at + 1], 'node-gpu on the CPU');
    assert.equal(detail[detail.indexOf('trained by') + 1], gpuless.metrics!.trainedBy, 'the worker that trained it');
    // A running trial has not said what it trains on; its lease says where.
    await page.locator('#trials tbody tr.state-row-running').click();
    await page.waitForFunction(() => document.querySelector('#detail-title')?.textContent?.includes('RUNNING'));
    const live = await page.$$eval('#detail-params > *', (els) => els.map((e) => e.textContent));
    assert.ok(!live.includes('trained on'));
    assert.equal(live[live.indexOf('training on') + 1], 'gpu-9:49:worker-ffffff (lease until 2026-12-07T05:00:00.000Z)');
    // Trials trained by several workers: the table has a worker column, sortable like the others.
    const heads = await page.$$eval('#trials thead th', (ths) => ths.map((th) => th.getAttribute('data-key')));
    assert.equal(heads.at(-1), 'worker');
    await page.locator('#trials th[data-key="worker"]').click();
    const workers = await page.$$eval('#trials tbody tr td.worker', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(workers, [...finished.map((t) => t.metrics!.trainedBy as string), lease.owner].sort());
    assert.deepEqual(problems, []);
  });
});

/**
 * `RENORM_TUNE_SCREENSHOT=dashboard/screenshot.png` writes the README screenshot; with `RENORM_TUNE_SCREENSHOT_DB=<file>`
 * it shows the first study of that database (a real `renorm-tune run`) instead of the synthetic one.
 */
test('screenshot for the README (only when RENORM_TUNE_SCREENSHOT names a file)', { skip: !process.env.RENORM_TUNE_SCREENSHOT }, async () => {
  let url = `${base}/study.html?id=${encodeURIComponent(studyId)}`;
  let dbServer: Server | undefined;
  const db = process.env.RENORM_TUNE_SCREENSHOT_DB;
  if (db) {
    const { SqliteStorage } = await import('../../src/study/storage/index.js');
    const storage = new SqliteStorage(db);
    const id = (await storage.listStudies())[0]!.id;
    let dbBase: string;
    [dbServer, dbBase] = await listen(createApp(createStudyService(storage), { ui: mountDashboard }));
    url = `${dbBase}/study.html?id=${encodeURIComponent(id)}`;
  }
  const { page, problems } = await watchedPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('#gp canvas, #gp .note').length > 0, undefined, { timeout: 30_000 });
  await page.waitForTimeout(500);
  // The top of the page (headline numbers, history, final validation, schedules, curves) reads well on a laptop;
  // RENORM_TUNE_SCREENSHOT_FULL=1 captures everything.
  const full = process.env.RENORM_TUNE_SCREENSHOT_FULL === '1';
  const bottom = await page.evaluate(() => (document.querySelector('#chart-gap')!.closest('.row') as HTMLElement).getBoundingClientRect().bottom + window.scrollY);
  await page.screenshot({ path: process.env.RENORM_TUNE_SCREENSHOT!, fullPage: true, ...(full ? {} : { clip: { x: 0, y: 0, width: 1440, height: Math.ceil(bottom + 16) } }) });
  await page.close();
  dbServer?.closeAllConnections();
  dbServer?.close();
  assert.deepEqual(problems, []);
});
