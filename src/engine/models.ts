// Builds the CNN / MLP networks trials train (conv or dense, no bias, then BatchRenormalization, ReLU).
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { expectInt, expectObject, expectOneOf, rejectUnknown } from '../config/fields.js';
import type { Clipping } from '../schedule/types.js';
import { BatchRenormalization, type BatchRenormalizationArgs, normalizeClipping } from './batch_renorm.js';

export type ModelSpec =
  | { type: 'cnn'; /** conv blocks, default 2 */ depth?: number; /** first block's filters, default 16, doubling per block */ width?: number }
  | { type: 'mlp'; /** hidden layer sizes, default [128] */ hidden?: number[] };

export interface InputShape {
  height: number;
  width: number;
  channels: number;
}

/** Layer options every BRN of a model shares (renormMomentum, initial clipping, ...). */
export type RenormOptions = Omit<BatchRenormalizationArgs, 'axis' | 'name' | 'inputShape' | 'batchInputShape'>;

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

/**
 * Builds the network. The default cnn is the benchmark's reference: conv3x3x16 (no bias) -> BRN -> ReLU ->
 * maxpool 2 -> conv3x3x32 -> BRN -> ReLU -> maxpool 2 -> flatten -> dense(numClasses) logits.
 */
export function buildModel(spec: ModelSpec, input: InputShape, numClasses: number, renorm: RenormOptions = {}): tf.LayersModel {
  const checked = validateModelSpec(spec, 'model');
  positiveInt(input.height, 'input.height', 4096);
  positiveInt(input.width, 'input.width', 4096);
  positiveInt(input.channels, 'input.channels', 4096);
  positiveInt(numClasses, 'numClasses', 100000);
  const layers: tf.layers.Layer[] = [];
  if (checked.type === 'cnn') {
    const depth = checked.depth ?? 2;
    const width = checked.width ?? 16;
    let h = input.height;
    let w = input.width;
    for (let i = 0; i < depth; i++) {
      if (h < 2 || w < 2) {
        throw new ConfigError('model.depth', `${depth} pooling blocks shrink a ${input.height}x${input.width} input below 1 pixel`, `use depth <= ${i}`);
      }
      layers.push(
        tf.layers.conv2d({
          ...(i === 0 ? { inputShape: [input.height, input.width, input.channels] } : {}),
          filters: width * 2 ** i,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          name: `conv${i + 1}`,
        }),
        new BatchRenormalization({ ...renorm, name: `brn${i + 1}` }),
        tf.layers.reLU({ name: `relu${i + 1}` }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` }),
      );
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    }
    layers.push(tf.layers.flatten({ name: 'flatten' }));
  } else {
    layers.push(tf.layers.flatten({ inputShape: [input.height, input.width, input.channels], name: 'flatten' }));
    (checked.hidden ?? [128]).forEach((units, i) => {
      layers.push(
        tf.layers.dense({ units, useBias: false, name: `dense${i + 1}` }),
        new BatchRenormalization({ ...renorm, name: `brn${i + 1}` }),
        tf.layers.reLU({ name: `relu${i + 1}` }),
      );
    });
  }
  layers.push(tf.layers.dense({ units: numClasses, name: 'logits' }));
  return tf.sequential({ layers, name: `${checked.type}` });
}

/** Every BatchRenormalization layer of the model, in order (nested models included). */
export function renormLayers(model: tf.LayersModel): BatchRenormalization[] {
  const out: BatchRenormalization[] = [];
  const visit = (layers: tf.layers.Layer[]) => {
    for (const l of layers) {
      if (l instanceof BatchRenormalization) out.push(l);
      else if (l instanceof tf.LayersModel) visit(l.layers);
    }
  };
  visit(model.layers);
  return out;
}

/** Applies one clipping to every BRN layer (validated once); cheap enough to call every step. */
export function setModelClipping(model: tf.LayersModel, clipping: { rmax: number; rmin?: number; dmax: number }): void {
  const c: Clipping = normalizeClipping(clipping);
  for (const l of renormLayers(model)) l.setClipping(c);
}
