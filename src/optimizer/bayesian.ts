// GP Bayesian optimization: a pipeline of small steps per proposal (design or model, fit, fantasize pending, maximize acquisition).
import { acquisition, type AcquisitionConfig } from '../gp/acquisition.js';
import { fitTheta, GaussianProcess, type GpData } from '../gp/gp.js';
import { optimizeAcquisition, type Scorer } from '../gp/optimize_acqf.js';
import { Rng, mixSeed } from '../gp/rng.js';
import { sobolPoints } from '../gp/sobol.js';
import { snapPoint } from '../gp/optimize_acqf.js';
import type { Params } from './types.js';
import { BaseOptimizer, checkState } from './base.js';
import type { GpSlice, OptimizerOptions, OptimizerState } from './types.js';

/** A GP fitted to the completed trials, with the map back to the objective's units. */
interface FittedModel {
  observations: number;
  gp: GaussianProcess;
  /** objective = sign * (yMean + yStd * standardized) */
  yMean: number;
  yStd: number;
  sign: number;
  /** Lowest standardized value observed: the incumbent of EI / PI. */
  best: number;
  bestIndex: number;
}

export class BayesianOptimizer extends BaseOptimizer {
  readonly name = 'gp' as const;
  private fitState: { observations: number; theta: Float64Array } | null = null;
  private cache: FittedModel | null = null;

  constructor(options: OptimizerOptions) {
    super(options);
  }

  /** True once enough finished trials exist for the GP to take over from the quasi-random design. */
  private modelReady(): boolean {
    const obs = this.ledger.observations;
    return obs.length >= this.opts.initialTrials && obs.filter((o) => o.value !== null).length >= 2;
  }

  protected propose(rng: Rng): Float64Array {
    if (!this.modelReady()) return this.designPoint();
    const model = this.fitted();
    const gp = this.withFantasies(model.gp);
    const cfg: AcquisitionConfig = { name: this.opts.acquisition, best: model.best };
    const anchors = this.bestPoints(3);
    const found = optimizeAcquisition(this.scorer(gp, cfg), this.space.dims, rng, {
      candidates: 1024,
      starts: 5,
      anchors,
      exclude: (x) => this.ledger.has(this.space.decode(x)),
    });
    return found ? found.x : this.space.sampleUniform(rng);
  }

  /** Next point of the seed's scrambled Sobol sequence, indexed by how many trials exist. */
  private designPoint(): Float64Array {
    const d = this.space.d;
    const x = sobolPoints(d, this.ledger.total, 1, mixSeed(this.opts.seed, 0x1d));
    return snapPoint(x, this.space.dims, true);
  }

  /** Standardized training data (lower is better); failed trials are imputed just beyond the worst value seen. */
  private trainingData(): { data: GpData; yMean: number; yStd: number; sign: number } {
    const obs = this.ledger.observations;
    const sign = this.opts.direction === 'maximize' ? -1 : 1;
    const finite = obs.filter((o) => o.value !== null).map((o) => sign * o.value!);
    // Slightly worse than the worst seen (5% of the observed range): bad enough to steer away, close enough
    // that a run of failures does not turn the standardized scale into "failures vs everything else".
    const worst = Math.max(...finite);
    const imputed = worst + 0.05 * (worst - Math.min(...finite));
    const raw = obs.map((o) => (o.value === null ? imputed : sign * o.value));
    const yMean = raw.reduce((a, b) => a + b, 0) / raw.length;
    const variance = raw.reduce((a, b) => a + (b - yMean) ** 2, 0) / raw.length;
    const yStd = variance > 1e-24 ? Math.sqrt(variance) : 1;
    const d = this.space.d;
    const X = new Float64Array(obs.length * d);
    obs.forEach((o, i) => X.set(o.x, i * d));
    const y = Float64Array.from(raw, (v) => (v - yMean) / yStd);
    return { data: { X, y, n: obs.length, d, categorical: this.space.categorical }, yMean, yStd, sign };
  }

  /** Fits (or reuses) the GP on completed trials; refits only when observations changed, warm-starting from the last fit. */
  private fitted(): FittedModel {
    const n = this.ledger.observations.length;
    if (this.cache && this.cache.observations === n) return this.cache;
    const { data, yMean, yStd, sign } = this.trainingData();
    let theta: Float64Array;
    if (this.fitState && this.fitState.observations === n) theta = this.fitState.theta;
    else theta = fitTheta(data, { rng: new Rng(this.opts.seed, mixSeed(n, 0xf17)), warm: this.fitState?.theta ?? null });
    this.fitState = { observations: n, theta };
    const gp = GaussianProcess.create(data, theta);
    let best = Infinity;
    let bestIndex = 0;
    this.ledger.observations.forEach((o, i) => {
      if (o.value !== null && data.y[i]! < best) {
        best = data.y[i]!;
        bestIndex = i;
      }
    });
    this.cache = { observations: n, gp, yMean, yStd, sign, best, bestIndex };
    return this.cache;
  }

  /** Kriging believer: each pending point is added with the posterior mean as its value, which shrinks the variance (and so EI) around it. */
  private withFantasies(gp: GaussianProcess): GaussianProcess {
    let g = gp;
    for (const p of this.ledger.pending.values()) g = g.condition(p.x, g.predict(p.x).mean);
    return g;
  }

  private bestPoints(k: number): Float64Array[] {
    return this.ledger.observations
      .filter((o) => o.value !== null)
      .map((o) => ({ x: o.x, v: (this.opts.direction === 'maximize' ? -1 : 1) * o.value! }))
      .sort((a, b) => a.v - b.v)
      .slice(0, k)
      .map((o) => o.x);
  }

  private scorer(gp: GaussianProcess, cfg: AcquisitionConfig): Scorer {
    return (x, withGrad) => {
      if (!withGrad) {
        const p = gp.predict(x);
        return { value: acquisition(cfg, p.mean, p.variance).value };
      }
      const p = gp.predictWithGrad(x);
      const a = acquisition(cfg, p.mean, p.variance);
      const grad = new Float64Array(x.length);
      for (let j = 0; j < x.length; j++) grad[j] = a.dMean * p.dMean[j]! + a.dVariance * p.dVariance[j]!;
      return { value: a.value, grad };
    };
  }

  async slices(center?: Params, points = 50): Promise<GpSlice[] | null> {
    if (!this.modelReady()) return null;
    const model = this.fitted();
    const c = center ? this.space.encode(this.space.validateParams(center, 'center')) : this.ledger.observations[model.bestIndex]!.x;
    const cfg: AcquisitionConfig = { name: this.opts.acquisition, best: model.best };
    const n = Math.max(2, Math.floor(points));
    return this.space.names.map((name, j) => {
      const spec = this.space.specs[j]!;
      const dim = this.space.dims[j]!;
      let us: number[];
      if (dim.kind === 'categorical') us = dim.choices! <= 1 ? [0] : Array.from({ length: dim.choices! }, (_, i) => i);
      else if (dim.kind === 'grid' && dim.grid!.length <= n) us = Array.from(dim.grid!);
      else {
        us = Array.from({ length: n }, (_, i) => i / (n - 1));
        if (dim.kind === 'grid') us = [...new Set(us.map((u) => snapPoint(Float64Array.of(u), [dim], false)[0]!))];
      }
      const slice: GpSlice = { name, type: spec.type, x: [], mean: [], std: [], acquisition: [] };
      if (spec.type !== 'categorical' && spec.log) slice.log = true;
      for (const u of us) {
        const x = Float64Array.from(c);
        x[j] = u;
        const p = model.gp.predict(x);
        slice.x.push(this.space.decode(x)[name]!);
        slice.mean.push(model.sign * (model.yMean + model.yStd * p.mean));
        slice.std.push(model.yStd * Math.sqrt(p.variance));
        slice.acquisition.push(acquisition(cfg, p.mean, p.variance).value);
      }
      return slice;
    });
  }

  override toJSON(): OptimizerState {
    const s = super.toJSON();
    s.fit = this.fitState ? { observations: this.fitState.observations, theta: Array.from(this.fitState.theta) } : null;
    return s;
  }

  static fromJSON(json: unknown): BayesianOptimizer {
    const s = checkState(json, 'gp');
    const opt = new BayesianOptimizer(s.options);
    opt.restoreLedger(s);
    if (s.fit && Array.isArray(s.fit.theta) && s.fit.theta.length === opt.space.d + 2) {
      opt.fitState = { observations: s.fit.observations, theta: Float64Array.from(s.fit.theta) };
    }
    return opt;
  }
}
