// The one range of a renorm momentum that reaches a trainer from outside (an export, `enqueue --renorm-momentum`, a
// REST enqueue): the layer's own, [0, 1), so every value the search space can produce (up to 0.99999) passes.
import { expectNumber } from '../config/fields.js';

export function checkRenormMomentum(raw: unknown, field: string): number {
  return expectNumber(raw, field, 0, 1, { hiOpen: true, fix: 'e.g. 0.99 (the moving statistics keep 99% of their value each step), or leave it out' });
}
