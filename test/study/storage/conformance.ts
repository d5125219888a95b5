// The behaviour every Storage implementation must share; each backend's test file runs it against fresh stores.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ConflictError, NotFoundError } from '../../../src/errors.js';
import { BudgetExhaustedError, LeaseLostError, StaleSnapshotError, TrialNotRunningError } from '../../../src/study/errors.js';
import { trialSeed } from '../../../src/study/seeds.js';
import type { NewTrial, Storage } from '../../../src/study/types.js';
import { SLICE_ITEMS, SLICE_ROWS } from '../../../src/event_loop.js';
import { tally } from '../../../src/shared/summary.js';

const ramp = { kind: 'ramp', shape: 'linear', warmup: 0.1, rmaxFinal: 3, rmaxEnd: 0.8, dmaxFinal: 5, dmaxEnd: 0.5 } as const;
export const newTrial = (over: Partial<NewTrial> = {}): NewTrial => ({ state: 'WAITING', role: 'search', params: { warmup: 0.1, shape: 'linear' }, schedule: ramp, ...over });
const config = { name: 's', seed: 42, scenario: { dataset: 'mnist', steps: 100 } };
const lease = (owner = 'host:1', seconds = 60) => ({ owner, seconds });

/** A fresh, empty store; `advance(ms)` moves the store's clock forward (a fake clock, or a real sleep where the clock is the server's). */
export interface Opened {
  storage: Storage;
  advance(ms: number): Promise<void>;
  /** A second connection to the same store (another process, in effect), when the backend has one. */
  second?(): Promise<Storage>;
  cleanup?(): Promise<void>;
  /** Trials a whole listing reads at a time, when not SLICE_ITEMS. */
  pageTrials?: number;
}

export function storageConformance(name: string, open: () => Promise<Opened>): void {
  describe(`Storage conformance: ${name}`, () => {
    let o: Opened;
    let s: Storage;
    const opened: Storage[] = [];
    beforeEach(async () => {
      o = await open();
      s = o.storage;
    });
    afterEach(async () => {
      for (const x of opened.splice(0)) await x.close();
      await s.close();
      await o.cleanup?.();
    });
    const study = (n = 'a', c: Record<string, unknown> = config) => s.createStudy({ name: n, direction: 'maximize', config: c });

    it('creates, finds and lists studies with their config verbatim', async () => {
      const a = await s.createStudy({ name: 'alpha', direction: 'maximize', config });
      const b = await s.createStudy({ name: 'beta', direction: 'minimize', config: { nested: { x: [1, 2] } } });
      assert.match(a.id, /^[0-9a-f]{12}$/);
      assert.notEqual(a.id, b.id);
      assert.equal(a.state, 'CREATED');
      assert.deepEqual(a.attrs, {});
      assert.equal(a.searchSeconds, 0);
      assert.deepEqual(await s.getStudy(a.id), a);
      assert.deepEqual((await s.findStudyByName('beta'))?.config, { nested: { x: [1, 2] } });
      assert.equal(await s.getStudy('nope'), undefined);
      assert.equal(await s.findStudyByName('nope'), undefined);
      assert.deepEqual((await s.listStudies()).map((x) => x.name), ['alpha', 'beta'], 'listStudies is in creation order');
    });

    it('refuses a duplicate study name with ConflictError and stores nothing', async () => {
      await study('alpha');
      await assert.rejects(study('alpha'), ConflictError);
      assert.equal((await s.listStudies()).length, 1);
    });

    it('updates state, attrs, name and config; unknown study -> NotFoundError', async () => {
      const a = await study('alpha');
      await study('beta');
      await s.setStudyState(a.id, 'RUNNING');
      await s.setStudyAttr(a.id, 'report', { n: 3 });
      await s.setStudyAttr(a.id, 'report', { n: 4 });
      await s.setStudyAttr(a.id, 'gone', undefined);
      await s.renameStudy(a.id, 'gamma');
      await s.updateStudyConfig(a.id, (c) => ({ ...c, budget: { trials: 50 } }));
      const got = (await s.getStudy(a.id))!;
      assert.equal(got.state, 'RUNNING');
      assert.equal(got.name, 'gamma');
      assert.deepEqual(got.config.budget, { trials: 50 });
      assert.deepEqual(got.attrs, { report: { n: 4 }, gone: null });
      await assert.rejects(s.renameStudy(a.id, 'beta'), ConflictError, 'a taken name is refused');
      await assert.rejects(s.setStudyState('nope', 'RUNNING'), NotFoundError);
      await assert.rejects(s.setStudyAttr('nope', 'k', 1), NotFoundError);
      await assert.rejects(s.renameStudy('nope', 'x'), NotFoundError);
      await assert.rejects(s.setStudyState(a.id, 'BOGUS' as never), ConfigError);
    });

    it('writes a state and attrs together (setStudyState\'s attrs): both, or neither when one cannot be stored', async () => {
      const a = await study('alpha');
      const before = await s.changeStamp(a.id);
      await s.setStudyState(a.id, 'STOPPED', { held: '2026-12-07T18:00:00.000Z', other: { n: 1 } });
      let got = (await s.getStudy(a.id))!;
      assert.equal(got.state, 'STOPPED');
      assert.deepEqual(got.attrs, { held: '2026-12-07T18:00:00.000Z', other: { n: 1 } });
      assert.notEqual(await s.changeStamp(a.id), before, 'the write is news to a live view');
      const stamp = await s.changeStamp(a.id);
      await s.setStudyState(a.id, 'STOPPED', { held: null });
      got = (await s.getStudy(a.id))!;
      assert.deepEqual(got.attrs, { held: null, other: { n: 1 } }, 'the attrs are written with the state unchanged, null kept as a value');
      assert.notEqual(await s.changeStamp(a.id), stamp, 'an attr written with an unchanged state is news too');
      await assert.rejects(s.setStudyState(a.id, 'RUNNING', { held: 'x', bad: 1n }), TypeError);
      got = (await s.getStudy(a.id))!;
      assert.equal(got.state, 'STOPPED', 'an attr that cannot be stored leaves the state as it was');
      assert.deepEqual(got.attrs, { held: null, other: { n: 1 } }, 'and no attr of the call written');
    });

    it('edits the config as stored: a rename moves its name in the same write, a throwing edit changes nothing', async () => {
      const a = await study('a', { ...config, name: 'a', budget: { trials: 10 } });
      await s.renameStudy(a.id, 'b');
      let seen: Record<string, unknown> | undefined;
      await s.updateStudyConfig(a.id, (c) => {
        seen = c;
        return { ...c, budget: { trials: 20 } };
      });
      assert.equal(seen!.name, 'b', 'the edit sees the config as stored, the rename included');
      await assert.rejects(s.updateStudyConfig(a.id, () => {
        throw new ConfigError('budget', 'refused by the edit');
      }), ConfigError);
      assert.deepEqual((await s.getStudy(a.id))!.config, { ...config, name: 'b', budget: { trials: 20 } });
      const bare = await study('bare', { x: 1 });
      await s.renameStudy(bare.id, 'bare2');
      assert.deepEqual((await s.getStudy(bare.id))!.config, { x: 1 }, 'a config without a name gets none');
      await assert.rejects(s.updateStudyConfig('nope', (c) => c), NotFoundError);
    });

    it('deletes a study with all its trials and values, and nothing else', async () => {
      const a = await study('a');
      const b = await study('b');
      const [t] = await s.createTrials(a.id, [newTrial({ state: 'RUNNING', lease: lease() })]);
      await s.addIntermediate(a.id, t!.id, { step: 1, value: 0.5 });
      await s.createTrials(b.id, [newTrial()]);
      await s.deleteStudy(a.id);
      assert.equal(await s.getStudy(a.id), undefined);
      assert.equal(await s.getTrial(a.id, t!.id), undefined);
      assert.equal((await s.listTrials(b.id)).length, 1);
      await assert.rejects(s.deleteStudy(a.id), NotFoundError);
      const again = await study('a');
      assert.equal((await s.listTrials(again.id)).length, 0, 'a new study of the same name starts empty');
    });

    it('numbers trials per study, keeps roles, and derives seeds from the study seed and the number', async () => {
      const a = await study('a');
      const b = await study('b');
      const t1 = await s.createTrials(a.id, [newTrial({ role: 'baseline:batchnorm', schedule: { kind: 'batchnorm' } }), newTrial({ state: 'RUNNING', lease: lease() })]);
      const t2 = await s.createTrials(b.id, [newTrial()]);
      const t3 = await s.createTrials(a.id, [newTrial({ seed: 7, role: 'final:best' })]);
      assert.deepEqual([...t1, ...t3].map((t) => t.number), [0, 1, 2]);
      assert.equal(t2[0]!.number, 0);
      const ids = [...t1, ...t2, ...t3].map((t) => t.id);
      assert.ok(ids.every(Number.isInteger) && new Set(ids).size === 4, `ids must be distinct integers: ${ids}`);
      assert.deepEqual([...t1, ...t3].map((t) => t.role), ['baseline:batchnorm', 'search', 'final:best']);
      assert.deepEqual(t1.map((t) => [t.claims, t.lease?.token ?? null]), [[0, null], [1, 1]], 'one created handed out counts its claim');
      assert.deepEqual([t1[0]!.seed, t1[1]!.seed], [trialSeed(42, 0), trialSeed(42, 1)], 'default seeds come from the assigned number');
      assert.equal(t3[0]!.seed, 7, 'an explicit seed is kept');
      assert.deepEqual(t1[0]!.schedule, { kind: 'batchnorm' });
      assert.equal(t1[0]!.startedAt, null);
      assert.equal(t1[0]!.retries, 0);
      assert.equal(t1[0]!.pruneRequested, false);
      assert.ok(t1[1]!.startedAt, 'a trial created RUNNING has startedAt');
      assert.equal(t1[1]!.lease?.owner, 'host:1');
      assert.equal(t1[1]!.lease?.token, 1);
      assert.deepEqual(await s.getTrial(a.id, t1[1]!.id), t1[1]);
      assert.equal(await s.getTrial(b.id, t1[1]!.id), undefined, 'a trial is only found under its own study');
      assert.deepEqual(await Promise.all([0, 1, 2].map((n) => s.trialIdByNumber(a.id, n))), [t1[0]!.id, t1[1]!.id, t3[0]!.id], 'by number, one read each');
      assert.equal(await s.trialIdByNumber(b.id, 0), t2[0]!.id, 'numbers are per study');
      for (const n of [3, -1, 0.5, 2 ** 53, 2 ** 31]) assert.equal(await s.trialIdByNumber(a.id, n), undefined, `no trial #${n}`);
      assert.equal(await s.trialIdByNumber('no-such-study', 0), undefined);
      assert.equal(await s.trialIdByNumber('a\u0000b', 0), undefined, 'a NUL in the id finds nothing (PostgreSQL cannot even take it)');
      await assert.rejects(s.createTrials('nope', [newTrial()]), NotFoundError);
      await assert.rejects(s.createTrials(a.id, [newTrial({ state: 'COMPLETE', value: 1 })]), ConfigError, 'only warm starts are created finished');
      await assert.rejects(s.createTrials(a.id, [newTrial({ role: 'bogus' as never })]), ConfigError);
      await assert.rejects(s.createTrials(a.id, [newTrial({ state: 'RUNNING' })]), ConfigError, 'a RUNNING trial needs a lease');
      assert.equal((await s.listTrials(a.id)).length, 3, 'a rejected batch stores nothing');
    });

    it('creates finished warm-start copies whole', async () => {
      const a = await study();
      const [w] = await s.createTrials(a.id, [newTrial({ role: 'warm-start', state: 'COMPLETE', value: 0.9, metrics: { from: 'old' } })]);
      assert.equal(w!.state, 'COMPLETE');
      assert.equal(w!.value, 0.9);
      assert.deepEqual(w!.metrics, { from: 'old' });
      assert.ok(w!.finishedAt);
      await assert.rejects(s.createTrials(a.id, [newTrial({ role: 'warm-start', state: 'COMPLETE' })]), ConfigError, 'a COMPLETE copy needs its value');
    });

    it('creates a keyed trial once: a repeated key is skipped, in the same batch or later', async () => {
      const a = await study('a');
      const b = await study('b');
      const first = await s.createTrials(a.id, [newTrial({ key: 'k1' }), newTrial({ key: 'k2' })]);
      const again = await s.createTrials(a.id, [newTrial({ key: 'k1' }), newTrial({ key: 'k3' }), newTrial()]);
      assert.equal(first.length, 2);
      assert.deepEqual(again.map((t) => t.number), [2, 3], 'only the new key and the unkeyed trial are created');
      assert.equal((await s.createTrials(b.id, [newTrial({ key: 'k1' })])).length, 1, 'keys are per study');
      const twice = await s.createTrials(a.id, [newTrial({ key: 'k4', seed: 1 }), newTrial({ key: 'k4', seed: 2 })]);
      assert.deepEqual(twice.map((t) => [t.number, t.seed]), [[4, 1]], 'a key repeated within one batch is created once, the first wins');
      assert.equal((await s.listTrials(a.id)).length, 5);
    });

    it('refuses a stale snapshot: suggestions computed before another insert are not stored', async () => {
      const a = await study();
      await s.createTrials(a.id, [newTrial(), newTrial()]);
      const ok = await s.createTrials(a.id, [newTrial()], { snapshot: 2 });
      assert.equal(ok[0]!.number, 2);
      await assert.rejects(s.createTrials(a.id, [newTrial()], { snapshot: 2 }), StaleSnapshotError);
      assert.equal((await s.listTrials(a.id)).length, 3);
    });

    it('grants at most the budget: baselines count, final runs and warm starts do not', async () => {
      const a = await study();
      await s.createTrials(a.id, [newTrial({ role: 'baseline:batchnorm' }), newTrial({ role: 'final:best' }), newTrial({ role: 'warm-start', state: 'COMPLETE', value: 1 })]);
      const got = await s.createTrials(a.id, [newTrial(), newTrial(), newTrial()], { budget: 3 });
      assert.equal(got.length, 2, 'a partial grant: 3 - 1 baseline');
      await assert.rejects(s.createTrials(a.id, [newTrial()], { budget: 3 }), BudgetExhaustedError);
      assert.equal((await s.createTrials(a.id, [newTrial({ role: 'final:paper' })], { budget: 3 })).length, 1, 'a final run needs no budget');
      assert.equal((await s.listTrials(a.id)).length, 6);
    });

    it('claims a WAITING trial once, under a lease whose token grows with every claim', async () => {
      const a = await study();
      const [t] = await s.createTrials(a.id, [newTrial()]);
      assert.equal(t!.claims, 0, 'never handed out');
      const l1 = await s.claimTrial(a.id, t!.id, lease('w1'));
      assert.equal(l1?.token, 1);
      assert.equal(l1?.owner, 'w1');
      assert.equal(await s.claimTrial(a.id, t!.id, lease('w2')), null, 'a second claim must lose');
      const got = (await s.getTrial(a.id, t!.id))!;
      assert.equal(got.state, 'RUNNING');
      assert.deepEqual(got.lease, l1);
      assert.equal(await s.releaseTrial(a.id, t!.id, 1), true);
      const back = (await s.getTrial(a.id, t!.id))!;
      assert.equal(back.state, 'WAITING');
      assert.equal(back.lease, null);
      assert.equal(back.retries, 0, 'a clean release is not a retry');
      assert.equal(back.claims, 1, 'the claim it was handed back from is still counted: it orders the two records');
      assert.equal((await s.claimTrial(a.id, t!.id, lease('w2')))?.token, 2);
      assert.equal((await s.getTrial(a.id, t!.id))!.claims, 2);
      assert.equal(await s.releaseTrial(a.id, t!.id, 1), false, 'a stale token cannot release');
      await assert.rejects(s.claimTrial(a.id, 9999, lease()), NotFoundError);
      await assert.rejects(s.claimTrial(a.id, t!.id, { owner: '', seconds: 5 }), ConfigError);
    });

    it('a trial back in the queue starts over: released or reaped, its curve and prune request are gone, and the next attempt reports afresh', async () => {
      const a = await study();
      const [t] = await s.createTrials(a.id, [newTrial()]);
      const l1 = (await s.claimTrial(a.id, t!.id, lease('w1', 3)))!;
      await s.addIntermediate(a.id, t!.id, { step: 1, value: 0.1 }, { token: l1.token });
      await s.addIntermediate(a.id, t!.id, { step: 2, value: 0.2 }, { token: l1.token });
      await s.requestPrune(a.id, t!.id);
      assert.equal(await s.releaseTrial(a.id, t!.id, l1.token), true);
      const released = (await s.getTrial(a.id, t!.id))!;
      assert.deepEqual([released.intermediate, released.pruneRequested], [[], false]);
      const l2 = (await s.claimTrial(a.id, t!.id, lease('w2', 3)))!;
      await s.addIntermediate(a.id, t!.id, { step: 1, value: 0.5 }, { token: l2.token });
      await o.advance(3500);
      const [reaped] = await s.reapExpiredLeases(a.id, { maxRetries: 2 });
      assert.equal(reaped!.state, 'WAITING');
      assert.equal(reaped!.claims, 2, 'a requeue keeps the claim count too');
      assert.deepEqual(reaped!.intermediate, [], 'the reaped attempt\'s curve is gone too');
      const l3 = (await s.claimTrial(a.id, t!.id, lease('w3', 60)))!;
      await s.addIntermediate(a.id, t!.id, { step: 1, value: 0.7 }, { token: l3.token });
      assert.deepEqual((await s.getTrial(a.id, t!.id))!.intermediate.map((v) => [v.step, v.value]), [[1, 0.7]], 'the new attempt\'s value, not an old one');
    });

    it('renews a held lease; a stale token is refused everywhere and changes nothing', async () => {
      const a = await study();
      const [t] = await s.createTrials(a.id, [newTrial()]);
      const l1 = (await s.claimTrial(a.id, t!.id, lease('w1', 5)))!;
      await o.advance(1000);
      const renewed = await s.renewLease(a.id, t!.id, l1.token, 60);
      assert.ok(Date.parse(renewed.expiresAt) > Date.parse(l1.expiresAt), 'renewal moves the expiry');
      await s.releaseTrial(a.id, t!.id, l1.token);
      const l2 = (await s.claimTrial(a.id, t!.id, lease('w2')))!;
      await assert.rejects(s.renewLease(a.id, t!.id, l1.token, 60), LeaseLostError);
      await assert.rejects(s.addIntermediate(a.id, t!.id, { step: 1, value: 0.1 }, { token: l1.token }), LeaseLostError);
      await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.9 }, { token: l1.token }), (e: Error) => e instanceof LeaseLostError && /token 1 is stale, the lease is at 2/.test(e.message));
      await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.9 }, { token: l2.token + 5 }), (e: Error) => e instanceof LeaseLostError && /token 7 was never issued: its lease is at 2, send the token its ask returned/.test(e.message));
      const still = (await s.getTrial(a.id, t!.id))!;
      assert.equal(still.state, 'RUNNING');
      assert.deepEqual(still.intermediate, []);
      await s.addIntermediate(a.id, t!.id, { step: 1, value: 0.2 }, { token: l2.token, renewSeconds: 60 });
      const done = await s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.9 }, { token: l2.token });
      assert.equal(done.lease, null);
      // Its own holder's late heartbeat hears that its result was taken, not that it "would be refused".
      await assert.rejects(s.renewLease(a.id, t!.id, l2.token, 60), (e: Error) => e instanceof LeaseLostError
        && /lease lost \(it is COMPLETE\); the result sent under this lease was taken/.test(e.message), 'a finished trial has no lease to renew');
      await assert.rejects(s.renewLease(a.id, t!.id, l1.token, 60), (e: Error) => e instanceof LeaseLostError && /its result would be refused/.test(e.message), 'an older lease still hears its result would be refused');
      // Once the trial is finished by the next holder, the stale holder still hears that its lease was lost (a trainer
      // frozen past its lease and woken after the trial's end heard "already finished", a CONFLICT that ended its
      // loop: npm run soak); the holder that finished it hears CONFLICT, as for any trial told twice.
      const lostToOther = (e: Error) => e instanceof LeaseLostError && /token 1 is stale: its lease expired, the trial went to another trainer \(lease 2\), and it is COMPLETE now/.test(e.message);
      await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.5 }, { token: l1.token }), lostToOther);
      await assert.rejects(s.addIntermediate(a.id, t!.id, { step: 2, value: 0.5 }, { token: l1.token }), lostToOther);
      await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.5 }, { token: l2.token }), (e: Error) => e instanceof ConflictError && /already finished \(COMPLETE\)/.test(e.message));
      await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.5 }), (e: Error) => e instanceof ConflictError, 'without a token: already finished');
    });

    it('reaps expired leases back to the queue, then fails the trial after maxRetries, with the reason', async () => {
      const a = await study();
      const [t, live] = await s.createTrials(a.id, [newTrial(), newTrial()]);
      // 3 s leases: PostgreSQL runs on the server's real clock, and a loaded machine can pause for a second.
      await s.claimTrial(a.id, t!.id, lease('w1', 3));
      await s.claimTrial(a.id, live!.id, lease('w2', 600));
      assert.deepEqual(await s.reapExpiredLeases(a.id, { maxRetries: 1 }), [], 'nothing has expired yet');
      await o.advance(3500);
      const first = await s.reapExpiredLeases(a.id, { maxRetries: 1 });
      assert.deepEqual(first.map((x) => [x.id, x.state, x.retries]), [[t!.id, 'WAITING', 1]]);
      assert.equal((await s.getTrial(a.id, live!.id))!.state, 'RUNNING', 'a live lease is untouched');
      const l3 = (await s.claimTrial(a.id, t!.id, lease('w3', 3)))!;
      await o.advance(3500);
      const second = await s.reapExpiredLeases(a.id, { maxRetries: 1 });
      assert.equal(second[0]!.state, 'FAIL');
      assert.match(second[0]!.failureReason!, /lease expired 2 times.*w3.*maxRetries = 1/);
      // Its last holder, back after the trial was failed for it, hears its lease was lost, not "already finished"
      // (a CONFLICT, which ended a trainer's loop in npm run soak); without a token it is just finished.
      const failedForIt = (e: Error) => e instanceof LeaseLostError && /it was failed: its lease expired 2 times/.test(e.message);
      await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.5 }, { token: l3.token }), failedForIt);
      await assert.rejects(s.addIntermediate(a.id, t!.id, { step: 1, value: 0.5 }, { token: l3.token }), failedForIt);
      await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.5 }), ConflictError);
      const killed = await s.reapExpiredLeases(a.id, { maxRetries: 1, deadOwners: ['w2'] });
      assert.deepEqual(killed.map((x) => [x.id, x.state]), [[live!.id, 'WAITING']], 'a dead owner\'s lease is void at once');
    });

    it('records intermediate values in step order, first report of a step wins', async () => {
      const a = await study();
      const [t] = await s.createTrials(a.id, [newTrial({ state: 'RUNNING', lease: lease() })]);
      assert.equal(await s.addIntermediate(a.id, t!.id, { step: 20, value: 0.5, metrics: { loss: 1.2 } }), null, 'a new step is stored');
      assert.equal(await s.addIntermediate(a.id, t!.id, { step: 10, value: 0.25 }), null);
      assert.deepEqual(await s.addIntermediate(a.id, t!.id, { step: 20, value: 0.9 }), { kept: 0.5 }, 'a repeated step answers with the value it kept');
      assert.deepEqual((await s.getTrial(a.id, t!.id))!.intermediate, [{ step: 10, value: 0.25 }, { step: 20, value: 0.5, metrics: { loss: 1.2 } }]);
      assert.equal((await s.listTrials(a.id))[0]!.intermediate.length, 2, 'listTrials includes intermediates by default');
      assert.deepEqual((await s.listTrials(a.id, { withIntermediate: false }))[0]!.intermediate, []);
      await assert.rejects(s.addIntermediate(a.id, t!.id, { step: 1, value: NaN }), ConfigError);
      await assert.rejects(s.addIntermediate(a.id, t!.id, { step: -1, value: 1 }), ConfigError);
      await assert.rejects(s.addIntermediate(a.id, 9999, { step: 1, value: 1 }), NotFoundError);
      await s.finishTrial(a.id, t!.id, { state: 'PRUNED', value: 0.5 });
      await assert.rejects(s.addIntermediate(a.id, t!.id, { step: 30, value: 1 }), ConflictError);
    });

    it('remembers a prune request: a value told afterwards is recorded PRUNED when asked to honour it', async () => {
      const a = await study();
      const [t, u] = await s.createTrials(a.id, [newTrial({ state: 'RUNNING', lease: lease() }), newTrial({ state: 'RUNNING', lease: lease() })]);
      await s.requestPrune(a.id, t!.id);
      await s.requestPrune(a.id, t!.id);
      assert.equal((await s.getTrial(a.id, t!.id))!.pruneRequested, true);
      assert.equal((await s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.4 }, { honourPrune: true })).state, 'PRUNED');
      await s.requestPrune(a.id, u!.id);
      assert.equal((await s.finishTrial(a.id, u!.id, { state: 'COMPLETE', value: 0.4 })).state, 'COMPLETE', 'without honourPrune the caller decides');
    });

    it('answers peer queries from search trials only: exact steps, first at or after a rung, by state', async () => {
      const a = await study();
      const ts = await s.createTrials(a.id, [
        newTrial({ state: 'RUNNING', lease: lease() }), newTrial({ state: 'RUNNING', lease: lease() }), newTrial({ state: 'RUNNING', lease: lease(), role: 'enqueued' }),
        newTrial({ state: 'RUNNING', lease: lease(), role: 'baseline:paper' }), newTrial({ state: 'RUNNING', lease: lease(), role: 'final:best' }),
      ]);
      const report = async (i: number, step: number, value: number) => s.addIntermediate(a.id, ts[i]!.id, { step, value });
      await report(0, 10, 0.1); await report(0, 30, 0.3);
      await report(1, 20, 0.2);
      await report(2, 10, 0.15);
      await report(3, 10, 0.9); await report(4, 10, 0.9);
      await s.finishTrial(a.id, ts[0]!.id, { state: 'COMPLETE', value: 0.3 });
      const sorted = (v: number[]) => [...v].sort((x, y) => x - y);
      assert.deepEqual(sorted(await s.peerValues(a.id, { step: 10, mode: 'at' })), [0.1, 0.15]);
      assert.deepEqual(sorted(await s.peerValues(a.id, { step: 10, mode: 'at', states: ['COMPLETE'] })), [0.1]);
      assert.deepEqual(sorted(await s.peerValues(a.id, { step: 10, mode: 'at', exceptTrialId: ts[0]!.id })), [0.15]);
      assert.deepEqual(sorted(await s.peerValues(a.id, { step: 15, mode: 'firstAtOrAfter' })), [0.2, 0.3]);
      assert.deepEqual(await s.peerValues(a.id, { step: 99, mode: 'firstAtOrAfter' }), []);
    });

    it('finishes a trial once; the second finish is a ConflictError and changes nothing', async () => {
      const a = await study();
      const [t, t2] = await s.createTrials(a.id, [newTrial({ state: 'RUNNING', lease: lease() }), newTrial({ state: 'RUNNING', lease: lease() })]);
      const done = await s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.93, metrics: { valAccuracy: 0.93, backend: 'cpu' } });
      assert.equal(done.state, 'COMPLETE');
      assert.equal(done.value, 0.93);
      assert.deepEqual(done.metrics, { valAccuracy: 0.93, backend: 'cpu' });
      assert.ok(done.finishedAt);
      await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'FAIL', failureReason: 'x' }), ConflictError);
      assert.deepEqual(await s.getTrial(a.id, t!.id), done);
      const failed = await s.finishTrial(a.id, t2!.id, { state: 'FAIL', failureReason: 'out of memory' });
      assert.equal(failed.failureReason, 'out of memory');
      assert.equal(failed.value, null);
      await assert.rejects(s.finishTrial(a.id, 9999, { state: 'COMPLETE', value: 1 }), NotFoundError);
    });

    it('refuses a result or report for a queued trial sent without a token: TRIAL_NOT_RUNNING if it was never handed out, LEASE_LOST if its lease ended; nothing written', async () => {
      const a = await study();
      const [w] = await s.createTrials(a.id, [newTrial()]);
      const before = await s.getTrial(a.id, w!.id);
      await assert.rejects(s.finishTrial(a.id, w!.id, { state: 'COMPLETE', value: 0.9 }), (err: unknown) => err instanceof TrialNotRunningError && /trial #0 is WAITING: it was never handed out.*fix: ask for it first/.test(err.message));
      await assert.rejects(s.finishTrial(a.id, w!.id, { state: 'FAIL', failureReason: 'x' }), TrialNotRunningError);
      await assert.rejects(s.addIntermediate(a.id, w!.id, { step: 1, value: 0.5 }), TrialNotRunningError);
      await assert.rejects(s.finishTrial(a.id, w!.id, { state: 'COMPLETE', value: 0.9 }, { token: 1 }), LeaseLostError);
      assert.deepEqual(await s.getTrial(a.id, w!.id), before, 'a refused result changes nothing');
      // Handed out and handed back, it is queued again: a result without the token is a lost lease's, as with it.
      const first = (await s.claimTrial(a.id, w!.id, lease()))!;
      await s.releaseTrial(a.id, w!.id, first.token);
      await assert.rejects(s.finishTrial(a.id, w!.id, { state: 'COMPLETE', value: 0.9 }), (err: unknown) => err instanceof LeaseLostError && /it is WAITING: its lease ended and it went back to the queue/.test(err.message));
      await assert.rejects(s.addIntermediate(a.id, w!.id, { step: 1, value: 0.5 }), LeaseLostError);
      // Once handed out, the same calls go through, with or without the token.
      await s.claimTrial(a.id, w!.id, lease());
      assert.equal(await s.addIntermediate(a.id, w!.id, { step: 1, value: 0.5 }), null);
      assert.equal((await s.finishTrial(a.id, w!.id, { state: 'COMPLETE', value: 0.9 })).state, 'COMPLETE');
    });

    it('rejects a COMPLETE without a finite value before touching the trial', async () => {
      const a = await study();
      const [t] = await s.createTrials(a.id, [newTrial({ state: 'RUNNING', lease: lease() })]);
      for (const value of [undefined, null, NaN, Infinity]) {
        await assert.rejects(s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value }), ConfigError, `value ${value}`);
      }
      assert.equal((await s.getTrial(a.id, t!.id))!.state, 'RUNNING');
    });

    it('filters trials by state', async () => {
      const a = await study();
      const ts = await s.createTrials(a.id, [newTrial({ state: 'RUNNING', lease: lease() }), newTrial(), newTrial({ state: 'RUNNING', lease: lease() })]);
      await s.finishTrial(a.id, ts[2]!.id, { state: 'COMPLETE', value: 1 });
      assert.deepEqual((await s.listTrials(a.id, { states: ['RUNNING'] })).map((t) => t.number), [0]);
      assert.deepEqual((await s.listTrials(a.id, { states: ['WAITING', 'COMPLETE'] })).map((t) => t.number), [1, 2]);
      assert.deepEqual(await s.listTrials(a.id, { states: [] }), []);
    });

    it('lists trials with long curves in smaller pages (SLICE_ROWS rows a page), still whole and in order', async () => {
      const { id: _id, ...stored } = (await s.getStudy((await study('long-curves')).id))!;
      const page = o.pageTrials ?? SLICE_ITEMS;
      const n = 2 * page;
      const at = new Date(0).toISOString();
      const curve = (i: number) => Array.from({ length: 20 }, (_, k) => ({ step: 10 * (k + 1), value: i + k / 100 }));
      const trials = Array.from({ length: n }, (_, i) => ({
        number: i, state: 'COMPLETE' as const, role: 'search' as const, params: { warmup: i / n, shape: 'linear' }, schedule: ramp, value: i,
        failureReason: null, seed: trialSeed(42, i), metrics: null, intermediate: curve(i), retries: 0, pruneRequested: false,
        createdAt: at, startedAt: at, finishedAt: at, key: null,
      }));
      // 20 points a trial: a first page of `page` trials reads 20 x page points, past SLICE_ROWS, so the next ones are
      // smaller (and full: a listing ends at its first short page).
      assert.ok(21 * page > SLICE_ROWS);
      const copy = await s.importStudy({ study: { ...stored, name: 'long-curves-copy' }, trials });
      const all = await s.listTrials(copy.id);
      assert.deepEqual(all.map((t) => t.number), trials.map((t) => t.number));
      for (const [i, t] of all.entries()) assert.deepEqual(t.intermediate, curve(i), `trial #${i}'s curve`);
      assert.deepEqual((await s.listTrials(copy.id, { states: ['COMPLETE'] })).map((t) => t.intermediate.length), trials.map(() => 20));
    });

    it('lists a study larger than a page whole and in order, curves with their trials, and lets the event loop in while it reads', async () => {
      const a = await study();
      const page = o.pageTrials ?? SLICE_ITEMS;
      const n = 2 * page + 37;
      const made = await s.createTrials(a.id, Array.from({ length: n }, (_, i) => newTrial({ params: { warmup: i / n, shape: 'linear' } })));
      // Curves on trials either side of each page boundary, and a finished trial in each page, for the state filter.
      const marked = [0, page - 1, page, 2 * page - 1, 2 * page, n - 1];
      for (const i of marked) {
        const t = made[i]!;
        const held = (await s.claimTrial(a.id, t.id, lease()))!;
        await s.addIntermediate(a.id, t.id, { step: 1, value: i }, { token: held.token });
        await s.addIntermediate(a.id, t.id, { step: 2, value: i + 0.5 }, { token: held.token });
        await s.finishTrial(a.id, t.id, { state: 'COMPLETE', value: i });
      }
      let turned = false;
      setImmediate(() => { turned = true; });
      const all = await s.listTrials(a.id);
      assert.ok(turned, 'the event loop ran while the listing was read');
      assert.deepEqual(all.map((t) => t.number), made.map((t) => t.number));
      for (const [i, t] of all.entries()) {
        assert.equal(t.params.warmup, i / n);
        assert.deepEqual(t.intermediate, marked.includes(i) ? [{ step: 1, value: i }, { step: 2, value: i + 0.5 }] : [], `trial #${i}'s curve`);
      }
      // A filter few trials match (SQLite reads those by the state index) and one more than a page match (paged).
      const done = await s.listTrials(a.id, { states: ['COMPLETE'] });
      assert.deepEqual(done.map((t) => t.number), marked.map((i) => made[i]!.number));
      assert.deepEqual(done.map((t) => t.intermediate), marked.map((i) => [{ step: 1, value: i }, { step: 2, value: i + 0.5 }]), 'curves come with a state filter');
      assert.deepEqual((await s.listTrials(a.id, { states: ['WAITING', 'RUNNING'] })).map((t) => t.number), made.filter((_, i) => !marked.includes(i)).map((t) => t.number));
      const bare = await s.listTrials(a.id, { states: ['WAITING'], withIntermediate: false });
      assert.equal(bare.length, n - marked.length);
      assert.ok(bare.every((t) => t.intermediate.length === 0 && t.state === 'WAITING'));
      // More changes since that listing than SQLite reads in one page (PostgreSQL reads them in one statement): every
      // one is listed next time, in place and in order.
      const more = await s.createTrials(a.id, Array.from({ length: SLICE_ITEMS + 5 }, () => newTrial()));
      const toFail = [...made.slice(1, SLICE_ITEMS + 4).filter((_, k) => !marked.includes(k + 1)), more[3]!];
      assert.ok(toFail.length > SLICE_ITEMS);
      for (const t of toFail) {
        const held = (await s.claimTrial(a.id, t.id, lease()))!;
        await s.finishTrial(a.id, t.id, { state: 'FAIL', failureReason: 'x' }, { token: held.token });
      }
      const again = await s.listTrials(a.id, { withIntermediate: false });
      assert.deepEqual(again.map((t) => t.number), [...made, ...more].map((t) => t.number));
      assert.deepEqual(again.filter((t) => t.state === 'FAIL').map((t) => t.number), toFail.map((t) => t.number));
      assert.deepEqual(again.filter((t) => t.state === 'COMPLETE').map((t) => t.number), marked.map((i) => made[i]!.number));
    });

    it('keeps the search clock: ticks add up, a long gap does not count', async () => {
      const a = await study();
      assert.equal(await s.tickSearchClock(a.id, 60), 0, 'the first tick starts the clock');
      await o.advance(1000);
      const t1 = await s.tickSearchClock(a.id, 60);
      assert.ok(t1 >= 0.9 && t1 < 30, `one second in: ${t1}`);
      await o.advance(3000);
      const t2 = await s.tickSearchClock(a.id, 2);
      assert.equal(t2, t1, 'a gap longer than gapSeconds is not search time');
      assert.equal((await s.getStudy(a.id))!.searchSeconds, t2);
      await assert.rejects(s.tickSearchClock('nope', 60), NotFoundError);
    });

    it('moves the change stamp on every change a viewer sees, and not on a lease renewal', async () => {
      const a = await study();
      const stamps: number[] = [await s.changeStamp(a.id)];
      const moved = async (what: string) => {
        const v = await s.changeStamp(a.id);
        assert.notEqual(v, stamps[stamps.length - 1], `${what} must move the stamp`);
        stamps.push(v);
      };
      const [t] = await s.createTrials(a.id, [newTrial()]);
      await moved('createTrials');
      const l = (await s.claimTrial(a.id, t!.id, lease()))!;
      await moved('claimTrial');
      await s.renewLease(a.id, t!.id, l.token, 120);
      assert.equal(await s.changeStamp(a.id), stamps[stamps.length - 1], 'a heartbeat is not news');
      await s.addIntermediate(a.id, t!.id, { step: 1, value: 0.1 });
      await moved('addIntermediate');
      await s.requestPrune(a.id, t!.id);
      await moved('requestPrune');
      await s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.2 });
      await moved('finishTrial');
      await s.setStudyAttr(a.id, 'k', 1);
      await moved('setStudyAttr');
      await s.setStudyState(a.id, 'RUNNING');
      await moved('setStudyState');
      await s.renameStudy(a.id, 'renamed');
      await moved('renameStudy');
      await assert.rejects(s.changeStamp('nope'), NotFoundError);
      const b = await study('other');
      const all = await s.changeStamps();
      assert.deepEqual(new Map([...all].filter(([id]) => id === a.id || id === b.id)), new Map([[a.id, await s.changeStamp(a.id)], [b.id, await s.changeStamp(b.id)]]),
        'changeStamps: every study\'s stamp in one read');
      await s.createTrials(b.id, [newTrial()]);
      assert.notEqual((await s.changeStamps()).get(b.id), all.get(b.id), 'and it moves with the study');
      assert.equal((await s.changeStamps()).get(a.id), all.get(a.id), 'only with that study');
    });

    it('returns copies: mutating a returned record does not change storage', async () => {
      const a = await study();
      const [t] = await s.createTrials(a.id, [newTrial()]);
      (t!.params as Record<string, unknown>).warmup = 99;
      ((await s.getStudy(a.id))!.config as Record<string, unknown>).name = 'changed';
      assert.equal((await s.getTrial(a.id, t!.id))!.params.warmup, 0.1);
      assert.equal((await s.getStudy(a.id))!.config.name, 's');
    });

    it('never lets a caller change a listing: a listed record is a copy or read-only', async () => {
      const a = await study();
      await s.createTrials(a.id, [newTrial()]);
      const [listed] = await s.listTrials(a.id, { withIntermediate: false });
      try {
        (listed!.params as Record<string, unknown>).warmup = 99;
        (listed as { state: string }).state = 'FAIL';
      } catch (err) {
        assert.ok(err instanceof TypeError, `a refused change is a TypeError (frozen), got ${String(err)}`);
      }
      const [again] = await s.listTrials(a.id, { withIntermediate: false });
      assert.equal(again!.params.warmup, 0.1);
      assert.equal(again!.state, 'WAITING');
    });

    it('lists every change another connection makes, a lease renewal included', async (t) => {
      if (!o.second) return t.skip('this backend has a single connection');
      const other = await o.second();
      opened.push(other);
      const a = await study();
      const [w, x] = await s.createTrials(a.id, [newTrial(), newTrial()]);
      const view = async () => new Map((await s.listTrials(a.id, { withIntermediate: false })).map((r) => [r.number, r]));
      assert.equal((await view()).size, 2);
      const held = (await other.claimTrial(a.id, w!.id, lease('other')))!;
      await other.createTrials(a.id, [newTrial({ role: 'enqueued' })]);
      let now = await view();
      assert.deepEqual([now.get(0)!.state, now.get(0)!.lease?.owner, now.size], ['RUNNING', 'other', 3]);
      await o.advance(1100);
      const renewed = await other.renewLease(a.id, w!.id, held.token, 3600);
      assert.equal((await view()).get(0)!.lease!.expiresAt, renewed.expiresAt, 'a renewal moves the listed expiry');
      await other.finishTrial(a.id, w!.id, { state: 'COMPLETE', value: 0.5 });
      await other.claimTrial(a.id, x!.id, lease('other'));
      await other.finishTrial(a.id, x!.id, { state: 'FAIL', failureReason: 'x' });
      now = await view();
      assert.deepEqual([now.get(0)!.state, now.get(0)!.value, now.get(0)!.lease, now.get(1)!.state], ['COMPLETE', 0.5, null, 'FAIL']);
      assert.deepEqual((await s.listTrials(a.id, { states: ['WAITING'], withIntermediate: false })).map((r) => r.number), [2]);
    });

    it('serialises config edits from two connections: every field edited at once is kept', async (t) => {
      if (!o.second) return t.skip('this backend has a single connection');
      const other = await o.second();
      opened.push(other);
      const a = await study('a', { ...config, name: 'a' });
      await Promise.all([
        ...Array.from({ length: 12 }, (_, i) => (i % 2 ? s : other).updateStudyConfig(a.id, (c) => ({ ...c, [`k${i}`]: i }))),
        other.renameStudy(a.id, 'renamed'),
      ]);
      const got = (await s.getStudy(a.id))!;
      for (let i = 0; i < 12; i++) assert.equal(got.config[`k${i}`], i, `edit k${i} was lost: ${JSON.stringify(got.config)}`);
      assert.equal(got.name, 'renamed');
      assert.equal(got.config.name, 'renamed');
    });

    it('serialises concurrent writers: one claim wins, one snapshot wins, the budget holds exactly', async (t) => {
      if (!o.second) return t.skip('this backend has a single connection');
      const other = await o.second();
      opened.push(other);
      const a = await study();
      const [w] = await s.createTrials(a.id, [newTrial()]);
      const claims = await Promise.all([s.claimTrial(a.id, w!.id, lease('x')), other.claimTrial(a.id, w!.id, lease('y'))]);
      assert.equal(claims.filter((c) => c !== null).length, 1, 'exactly one claim wins');
      const snap = (await s.listTrials(a.id)).length;
      const inserts = await Promise.allSettled([s.createTrials(a.id, [newTrial()], { snapshot: snap }), other.createTrials(a.id, [newTrial()], { snapshot: snap })]);
      assert.equal(inserts.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one insert from the same snapshot wins');
      const grants = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? s : other).createTrials(a.id, [newTrial(), newTrial()], { budget: 9 })));
      const created = grants.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value.length : 0), 0);
      assert.equal(created, 9 - 2, 'the budget of 9 holds exactly (2 trials existed)');
      assert.ok(grants.every((r) => r.status === 'fulfilled' || r.reason instanceof BudgetExhaustedError), 'refusals are BudgetExhaustedError');
    });

    it('tallies every study\'s trials (counts, best, baselines) exactly as tally() does over its listed trials: mixed states, roles, ties, both directions', async () => {
      const max = await s.createStudy({ name: 'max', direction: 'maximize', config });
      const min = await s.createStudy({ name: 'min', direction: 'minimize', config });
      const empty = await s.createStudy({ name: 'empty', direction: 'maximize', config });
      // [role, final state (undefined: left WAITING, RUNNING: claimed), value]
      const plan: Array<[string, string | undefined, number | null]> = [
        ['search', 'COMPLETE', 0.5], ['search', undefined, null], ['baseline:paper', 'COMPLETE', 0.7], ['search', 'COMPLETE', 0.9],
        ['enqueued', 'COMPLETE', 0.9], ['search', 'PRUNED', 0.95], ['search', 'FAIL', null], ['search', 'RUNNING', null],
        ['baseline:batchnorm', 'COMPLETE', 0.6], ['baseline:paper', 'COMPLETE', 0.2], ['race:3', 'COMPLETE', 0.99], ['final:best', 'COMPLETE', 1],
        ['final:paper', 'FAIL', null], ['race:3', 'RUNNING', null], ['search', 'COMPLETE', -0.25], ['baseline:batchnorm', 'FAIL', null],
      ];
      for (const st of [max, min]) {
        for (const [role, state, value] of plan) {
          const [t] = await s.createTrials(st.id, [newTrial({ role: role as NewTrial['role'] })]);
          if (state) await s.claimTrial(st.id, t!.id, lease());
          if (state === 'FAIL') await s.finishTrial(st.id, t!.id, { state: 'FAIL', failureReason: 'x' });
          else if (state && state !== 'RUNNING') await s.finishTrial(st.id, t!.id, { state: state as 'COMPLETE' | 'PRUNED', value });
        }
        await s.createTrials(st.id, [newTrial({ role: 'warm-start', state: 'COMPLETE', value: st.direction === 'maximize' ? 5 : -5 })]);
      }
      const tallies = await s.trialTallies();
      for (const st of [max, min]) {
        const want = tally(await s.listTrials(st.id, { withIntermediate: false }), st.direction);
        assert.deepEqual(tallies.get(st.id), want, `${st.name}: the store's tally is the one the trials give`);
      }
      assert.deepEqual(tallies.get(max.id)?.best?.value, 0.9, 'ties go to the lower number');
      assert.deepEqual(tallies.get(min.id)?.best?.value, -0.25);
      assert.deepEqual(tallies.get(max.id)?.counts, { WAITING: 1, RUNNING: 1, COMPLETE: 7, PRUNED: 1, FAIL: 2 });
      assert.equal(tallies.has(empty.id), false, 'a study without trials has no tally');
      for (const st of [max, min]) {
        const one = await s.trialTallies(st.id);
        assert.deepEqual([...one.keys()], [st.id], `${st.name}: asked for one study, only its tally comes back`);
        assert.deepEqual(one.get(st.id), tallies.get(st.id), `${st.name}: the same tally as in the list of all`);
      }
      assert.equal((await s.trialTallies(empty.id)).size, 0, 'one study without trials: no tally');
      assert.equal((await s.trialTallies('no-such-study')).size, 0, 'an unknown study: no tally');
    });
  });
}
