// GP Bayesian optimization as a pipeline of small steps per proposal: design or model, trust-region choice, batch-aware acquisition, mixed optimization.
//
// suggest(count), for each batch member b:
//   1. before `initialTrials` observations: the next point of a scrambled Sobol design;
//   2. the global model (model.ts: warped outputs, product + additive Matérn kernel, MAP fit, degenerate-fit
//      fallback, bounded subset);
//   3. the trust-region machine (trust_region.ts) says global or local; local fits a GP to the points around
//      the incumbent and restricts the search to a box around it;
//   4. the acquisition: analytic LogEI (or UCB / PI) when nothing is pending, else batch qLogEI against the
//      pending trials and earlier batch members (or a kriging believer / constant liar, see OptimizerOptions.batch);
//   5. maximized over the mixed space (src/gp/optimize_acqf.ts), never returning a known point.
import { acquisition, type AcquisitionConfig } from '../gp/acquisition.js';
import type { GaussianProcess } from '../gp/gp.js';
import { optimizeAcquisition, snapPoint, type Scorer, type SearchBox } from '../gp/optimize_acqf.js';
import { QLogEI } from '../gp/qlogei.js';
import { mixSeed, type Rng } from '../gp/rng.js';
import { sobolPoints } from '../gp/sobol.js';
import { Tails } from '../gp/tails.js';
import { BaseOptimizer } from './base.js';
import { objectiveMoments, type Model } from './model.js';
import { batchMode, trustRegionBox, trustRegionState, type TrustRegionState } from './trust_region.js';
import type { GpSlice, Params, Recommendation } from './types.js';

/** Counters for `bench bo` and debugging; they never influence a suggestion. */
export interface BayesianStats {
  /** Global model fits, and how many of them fell back to the safe hyperparameters. */
  fits: number;
  fallbacks: number;
  /** Proposals made inside a trust region. */
  localProposals: number;
  proposals: number;
}

interface LocalModel {
  model: Model;
  box: SearchBox;
  center: Float64Array;
}

export class BayesianOptimizer extends BaseOptimizer {
  readonly name = 'gp' as const;
  readonly stats: BayesianStats = { fits: 0, fallbacks: 0, localProposals: 0, proposals: 0 };
  private warm: Float64Array | null = null;
  private global: { observations: number; model: Model } | null = null;
  private local: { observations: number; local: LocalModel | null } | null = null;

  suggest(count: number): Params[] {
    const taken = new Set<string>();
    const fixed = [...this.ledger.pending.values()].map((p) => p.x);
    const out: Params[] = [];
    for (let b = 0; b < count; b++) {
      const rng = this.rngFor(b);
      const x = this.modelReady() ? this.proposeFromModel(fixed, rng, taken) : this.designPoint(this.ledger.total + b);
      const params = this.distinct(this.space.decode(x), rng, taken);
      taken.add(this.space.key(params));
      fixed.push(this.space.encode(params));
      out.push(params);
    }
    return out;
  }

  /** Point `index` of the seed's scrambled Sobol sequence. */
  private designPoint(index: number): Float64Array {
    const x = sobolPoints(this.space.d, index, 1, mixSeed(this.opts.seed, 0x1d));
    return snapPoint(x, this.space.dims, true);
  }

  /** The global model of all observations; refitted only when observations changed, warm-started from the last fit. */
  private model(): Model {
    const obs = this.ledger.observations;
    if (this.global?.observations === obs.length) return this.global.model;
    const model = this.fitModel(obs, this.opts.seed, this.warm);
    this.warm = model.theta;
    this.stats.fits++;
    if (model.diagnostics.fallback) this.stats.fallbacks++;
    this.global = { observations: obs.length, model };
    return model;
  }

  private trState(): TrustRegionState {
    const sign = this.opts.direction === 'maximize' ? -1 : 1;
    const raw = this.ledger.observations.map((o) => (o.value === null ? null : sign * o.value));
    // The machine's "improved" is relative to the observed range, which a diverged run's 1e30 would blow up: far
    // outliers are compressed as the model's warp compresses them (monotone, so the order is unchanged).
    const tails = this.opts.outputTails ? Tails.fit(raw.filter((v): v is number => v !== null)) : null;
    return trustRegionState(tails ? raw.map((v) => (v === null ? null : tails.compress(v))) : raw, this.opts.initialTrials, this.space.d);
  }

  /**
   * A GP fitted to the observations around the incumbent: those inside twice the region's box, and at least the
   * nearest max(10, 2d + 2) by lengthscale-scaled distance, so the fit is never starved.
   */
  private localModel(global: Model, tr: TrustRegionState): LocalModel | null {
    const obs = this.ledger.observations;
    if (this.local?.observations === obs.length) return this.local.local;
    const center = obs[global.incumbentIndex]!.x;
    const ls = global.gp.lengthscales();
    const box = trustRegionBox(center, ls, tr.length, this.space.dims);
    const wide = trustRegionBox(center, ls, 2 * tr.length, this.space.dims);
    const d = this.space.d;
    const cat = this.space.categorical;
    const dist = obs.map((o, i) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += cat[j] ? (o.x[j] === center[j] ? 0 : 1 / (ls[j]! * ls[j]!)) : ((o.x[j]! - center[j]!) / ls[j]!) ** 2;
      return { i, s };
    });
    dist.sort((a, b) => a.s - b.s || a.i - b.i);
    const inside = (x: Float64Array) => {
      for (let j = 0; j < d; j++) if (!cat[j] && (x[j]! < wide.lower[j]! || x[j]! > wide.upper[j]!)) return false;
      return true;
    };
    const minPoints = Math.min(obs.length, Math.max(10, 2 * d + 2));
    const chosen = dist.filter((e, rank) => rank < minPoints || inside(obs[e.i]!.x)).slice(0, this.opts.maxModelPoints).map((e) => e.i);
    chosen.sort((a, b) => a - b);
    const sub = chosen.map((i) => obs[i]!);
    let local: LocalModel | null = null;
    if (sub.filter((o) => o.value !== null).length >= 2) {
      // Values near the incumbent of a converged run span orders of magnitude on purpose: only what the whole study
      // calls diverged is compressed here.
      const model = this.fitModel(sub, mixSeed(this.opts.seed, 0x70c), null, global.warp.tails);
      local = { model, box, center };
    }
    this.local = { observations: obs.length, local };
    return local;
  }

  private proposeFromModel(fixed: Float64Array[], rng: Rng, taken: Set<string>): Float64Array {
    const global = this.model();
    const obs = this.ledger.observations;
    let model = global;
    let box: SearchBox | undefined;
    let center = obs[global.incumbentIndex]!.x;
    if (this.opts.trustRegion) {
      const tr = this.trState();
      // Pending trials (other workers' and earlier batch members) took the modes before this one.
      const local = batchMode(tr, fixed.length, this.space.d) === 'local' ? this.localModel(global, tr) : null;
      if (local) {
        model = local.model;
        box = local.box;
        center = local.center;
        this.stats.localProposals++;
      }
    }
    this.stats.proposals++;
    const best = this.bestPoints(3);
    const found = optimizeAcquisition(this.scorer(model, fixed, rng), this.space.dims, rng, {
      seeds: [center, ...best],
      anchors: best,
      ...(box ? { box } : {}),
      exclude: (x) => {
        const p = this.space.decode(x);
        return this.ledger.has(p) || taken.has(this.space.key(p));
      },
    });
    return found ? found.x : this.space.sampleUniform(rng);
  }

  /** The acquisition for the next point given the fixed (pending and earlier batch) points. */
  private scorer(model: Model, fixed: Float64Array[], rng: Rng): Scorer {
    const cfg: AcquisitionConfig = { name: this.opts.acquisition, best: model.incumbent };
    if (fixed.length === 0) return analytic(model.gp, cfg);
    if (this.opts.acquisition === 'logei' && this.opts.batch === 'qlogei') {
      const q = new QLogEI(model.gp, fixed, model.incumbent, { seed: rng.uint32() });
      return (x, withGrad) => q.score(x, withGrad);
    }
    // Kriging believer: each fixed point "returned" its posterior mean; constant liar: the incumbent's value.
    let gp = model.gp;
    for (const x of fixed) gp = gp.condition(x, this.opts.batch === 'constant-liar' ? model.incumbent : gp.predict(x).mean);
    return analytic(gp, cfg);
  }

  private bestPoints(k: number): Float64Array[] {
    const sign = this.opts.direction === 'maximize' ? -1 : 1;
    return this.ledger.observations
      .filter((o) => o.value !== null)
      .map((o) => ({ x: o.x, v: sign * o.value! }))
      .sort((a, b) => a.v - b.v)
      .slice(0, k)
      .map((o) => o.x);
  }

  async slices(center?: Params, points = 50): Promise<GpSlice[] | null> {
    if (!this.modelReady()) return null;
    const model = this.model();
    const c = center ? this.space.encode(this.space.validateParams(center, 'center')) : this.ledger.observations[model.incumbentIndex]!.x;
    const cfg: AcquisitionConfig = { name: this.opts.acquisition, best: model.incumbent };
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
        const m = objectiveMoments(model, p.mean, p.variance);
        slice.x.push(this.space.decode(x)[name]!);
        slice.mean.push(m.mean);
        slice.std.push(m.sd);
        slice.acquisition.push(acquisition(cfg, p.mean, p.variance).value);
      }
      return slice;
    });
  }

  /** Lowest posterior mean over the observed points (all of them, not just the model's subset), or over `among`. */
  async recommend(among?: readonly Params[]): Promise<Recommendation | null> {
    if (!this.modelReady()) return this.bestObserved(among);
    const model = this.model();
    const allowed = this.allowed(among);
    let best = -1;
    let bestMean = Infinity;
    this.ledger.observations.forEach((o, i) => {
      if (o.value === null || !allowed(o.params)) return;
      const m = model.gp.predictMean(o.x);
      if (m < bestMean) {
        bestMean = m;
        best = i;
      }
    });
    if (best < 0) return this.bestObserved(among);
    const o = this.ledger.observations[best]!;
    const p = model.gp.predict(o.x);
    const m = objectiveMoments(model, p.mean, p.variance);
    // Values past overflow (a diverged run at 1e155) leave the model with no numbers to give: say what was measured.
    if (!Number.isFinite(m.mean) || !Number.isFinite(m.sd)) return this.bestObserved(among);
    return { params: { ...o.params }, mean: m.mean, sd: m.sd, observed: o.value! };
  }

  protected importanceModel(): Model {
    return this.model();
  }
}

function analytic(gp: GaussianProcess, cfg: AcquisitionConfig): Scorer {
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
