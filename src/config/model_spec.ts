// The model a scenario names (cnn or mlp, with sizes) and its validation; pure, so checking a config never loads TF.js.
import { ConfigError } from '../errors.js';
import { expectInt, expectObject, expectOneOf, rejectUnknown } from './fields.js';

export type ModelSpec =
  | { type: 'cnn'; /** conv blocks, default 2 */ depth?: number; /** first block's filters, default 16, doubling per block */ width?: number }
  | { type: 'mlp'; /** hidden layer sizes, default [128] */ hidden?: number[] };

function positiveInt(v: unknown, field: string, max: number): number {
  return expectInt(v, field, 1, max, `use e.g. ${field.endsWith('depth') ? 2 : 16}`);
}

/** Checks an untrusted model spec; errors name the offending field under `field` (e.g. `scenario.model`). */
export function validateModelSpec(raw: unknown, field: string): ModelSpec {
  const o = expectObject(raw, field, 'use {"type": "cnn"} or {"type": "mlp"}');
  const type = expectOneOf(o['type'], `${field}.type`, ['cnn', 'mlp'] as const, 'use "cnn" (default network) or "mlp"');
  rejectUnknown(o, field, type === 'cnn' ? ['type', 'depth', 'width'] : ['type', 'hidden']);
  if (type === 'cnn') {
    const spec: ModelSpec = { type: 'cnn' };
    if (o['depth'] !== undefined) spec.depth = positiveInt(o['depth'], `${field}.depth`, 6);
    if (o['width'] !== undefined) spec.width = positiveInt(o['width'], `${field}.width`, 512);
    return spec;
  }
  const spec: ModelSpec = { type: 'mlp' };
  if (o['hidden'] !== undefined) {
    const h = o['hidden'];
    if (!Array.isArray(h) || h.length === 0) {
      throw new ConfigError(`${field}.hidden`, `must be a non-empty array of layer sizes, got ${JSON.stringify(h)}`, 'use e.g. [128]');
    }
    spec.hidden = h.map((v, i) => positiveInt(v, `${field}.hidden[${i}]`, 8192));
  }
  return spec;
}
