// Builds the CNN / MLP networks trials train (conv or dense, no bias, then BatchRenormalization, ReLU).
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { expectInt } from '../config/fields.js';
import { type ModelSpec, validateModelSpec } from '../config/model_spec.js';
import type { Clipping } from '../schedule/types.js';
import { BatchRenormalization, type BatchRenormalizationArgs, normalizeClipping } from './batch_renorm.js';

export interface InputShape {
  height: number;
  width: number;
  channels: number;
}

/** HxWxC, as `bench train --input` takes it. */
export function shapeText(s: InputShape): string {
  return `${s.height}x${s.width}x${s.channels}`;
}

/** Layer options every BRN of a model shares (renormMomentum, initial clipping, ...). */
export type RenormOptions = Omit<BatchRenormalizationArgs, 'axis' | 'name' | 'inputShape' | 'batchInputShape'>;

/** The input shape and class count come from code (a dataset), not a config: the range is the whole message. */
function positiveInt(v: unknown, field: string, max: number): number {
  return expectInt(v, field, 1, max);
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
