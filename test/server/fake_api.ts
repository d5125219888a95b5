// A small StudyApi over MemoryStorage for server tests: real storage rules, a fixed proposal instead of an optimizer.
import { NotFoundError } from '../../src/errors.js';
import type { AskedTrial, GpView, StudyApi, StudyEvent, StudySummary, StudyView } from '../../src/study/api_types.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { buildExport } from '../../src/study/export.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import type { Storage, StudyRecord, TrialRecord } from '../../src/study/types.js';

export class FakeStudyApi implements StudyApi {
  readonly storage: Storage = new MemoryStorage();
  private readonly listeners = new Map<string, Set<(e: StudyEvent) => void>>();
  /** Set to make every call throw this (to test how the server reports unexpected failures). */
  explode: Error | null = null;

  createStudy(config: unknown): StudyRecord {
    this.boom();
    const c = validateStudyConfig(config);
    return this.storage.createStudy({ name: c.name, direction: c.objective.direction, config: c as unknown as Record<string, unknown> });
  }

  listStudies(): StudySummary[] {
    this.boom();
    return this.storage.listStudies().map((s) => this.summary(s));
  }

  getStudyView(studyId: string): StudyView {
    this.boom();
    const s = this.study(studyId);
    return { ...this.summary(s), config: s.config, metric: 'valAccuracy', totalSteps: 1000, trials: this.storage.listTrials(studyId), finalValidation: null };
  }

  async ask(studyId: string, count: number): Promise<AskedTrial[]> {
    this.boom();
    this.study(studyId);
    const trials = this.storage.createTrials(studyId, Array.from({ length: count }, (_, i) => ({
      state: 'RUNNING' as const, params: { warmup: 0.1 + i / 100 }, schedule: { kind: 'paper' as const, warmup: 0.1 + i / 100 }, seed: i,
    })));
    trials.forEach((t) => this.emit({ type: 'trial', studyId, trial: t }));
    return trials.map((t) => ({ id: t.id, params: t.params, schedule: t.schedule }));
  }

  report(studyId: string, trialId: number, step: number, value: number, metrics?: Record<string, unknown>): { prune: boolean } {
    this.boom();
    this.trial(studyId, trialId);
    this.storage.addIntermediate(studyId, trialId, metrics ? { step, value, metrics } : { step, value });
    this.emit({ type: 'trial', studyId, trial: this.trial(studyId, trialId) });
    return { prune: value < 0.1 };
  }

  tell(studyId: string, trialId: number, outcome: { value: number } | { failed: string }): TrialRecord {
    this.boom();
    this.trial(studyId, trialId);
    const t = 'failed' in outcome
      ? this.storage.finishTrial(studyId, trialId, { state: 'FAIL', failureReason: outcome.failed })
      : this.storage.finishTrial(studyId, trialId, { state: 'COMPLETE', value: outcome.value });
    this.emit({ type: 'trial', studyId, trial: t });
    return t;
  }

  bestSchedule(studyId: string) {
    this.boom();
    return buildExport(this.study(studyId), this.storage.listTrials(studyId), { packageVersion: 'test' });
  }

  async gpView(studyId: string): Promise<GpView> {
    this.boom();
    this.study(studyId);
    return { available: false, reason: 'fake' };
  }

  subscribe(studyId: string, listener: (event: StudyEvent) => void): () => void {
    let set = this.listeners.get(studyId);
    if (!set) this.listeners.set(studyId, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  listenerCount(studyId: string): number {
    return this.listeners.get(studyId)?.size ?? 0;
  }

  private emit(e: StudyEvent): void {
    for (const l of this.listeners.get(e.studyId) ?? []) l(e);
  }

  private boom(): void {
    if (this.explode) throw this.explode;
  }

  private study(id: string): StudyRecord {
    const s = this.storage.getStudy(id);
    if (!s) throw new NotFoundError(`study ${id}`);
    return s;
  }

  private trial(studyId: string, trialId: number): TrialRecord {
    const t = this.storage.getTrial(studyId, trialId);
    if (!t) throw new NotFoundError(`trial ${trialId}`);
    return t;
  }

  private summary(s: StudyRecord): StudySummary {
    const counts = { WAITING: 0, RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0 };
    for (const t of this.storage.listTrials(s.id)) counts[t.state]++;
    return { id: s.id, name: s.name, state: s.state, direction: s.direction, executor: 'external', createdAt: s.createdAt, counts, budgetTrials: null, best: null, baselines: { batchnorm: null, paper: null } };
  }
}
