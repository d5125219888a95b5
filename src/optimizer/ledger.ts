// Bookkeeping every optimizer shares: observations, pending suggestions, ids, and the checks on tell.
import { ConfigError, ConflictError, NotFoundError } from '../errors.js';
import type { Params } from './types.js';
import { EncodedSpace } from './space.js';
import type { Observation } from './types.js';

export interface EncodedObservation extends Observation {
  x: Float64Array;
}

export function checkValue(value: unknown, field = 'value'): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(field, `must be a finite number, or null for a failed trial; got ${String(value)}`, 'report failures as null, not NaN or Infinity');
  }
  return value;
}

export class TrialLedger {
  readonly observations: EncodedObservation[] = [];
  readonly pending = new Map<string, { params: Params; x: Float64Array }>();
  private readonly told = new Set<string>();
  private readonly keys = new Set<string>();
  private nextId = 0;

  constructor(readonly space: EncodedSpace) {}

  /** Params already observed or pending (as canonical keys), so no suggestion repeats them. */
  has(params: Params): boolean {
    return this.keys.has(this.space.key(params));
  }

  /** Total known trials: the index of the next quasi-random design point. */
  get total(): number {
    return this.observations.length + this.pending.size;
  }

  addPending(params: Params, validate = true): string {
    const p = validate ? this.space.validateParams(params, 'params') : params;
    const id = `t${this.nextId++}`;
    this.pending.set(id, { params: p, x: this.space.encode(p) });
    this.keys.add(this.space.key(p));
    return id;
  }

  /** A pending trial under an id another ledger assigned (a worker-thread host mirrors its main-side ledger). */
  addPendingWithId(id: string, params: Params): void {
    if (this.pending.has(id) || this.told.has(id)) throw new ConflictError(`trial ${id} is already known`);
    const p = this.space.validateParams(params, 'params');
    this.pending.set(id, { params: p, x: this.space.encode(p) });
    this.keys.add(this.space.key(p));
  }

  tell(id: string, value: unknown): void {
    if (typeof id !== 'string') throw new ConfigError('id', `must be a string, got ${JSON.stringify(id)}`);
    const v = checkValue(value);
    const p = this.pending.get(id);
    if (!p) {
      if (this.told.has(id)) throw new ConflictError(`trial ${id} was already told`);
      throw new NotFoundError(`trial ${id}`);
    }
    this.pending.delete(id);
    this.told.add(id);
    this.observations.push({ params: p.params, value: v, x: p.x });
  }

  addObservation(params: Params, value: unknown): void {
    const v = checkValue(value);
    const p = this.space.validateParams(params, 'params');
    this.observations.push({ params: p, value: v, x: this.space.encode(p) });
    this.keys.add(this.space.key(p));
  }
}
