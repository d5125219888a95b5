// Runs a sequential model's layers directly (no symbolic-graph executor) for the training hot loop.
import * as tf from '@tensorflow/tfjs';

type Kwargs = { [key: string]: unknown };

interface ConvFields {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  useBias: boolean;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: string;
  dilationRate: number | number[];
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string };
}

function isPlainConv2D(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'Conv2D') return false;
  const c = layer as unknown as ConvFields;
  const dil = Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate];
  return c.dataFormat === 'channelsLast' && c.padding !== 'causal' && dil.every((d) => d === 1);
}

/**
 * Conv2D goes through tf.conv2d rather than the layer: tfjs-layers uses fused.conv2d, whose custom gradient
 * always computes the input gradient, wasted work for the first conv (its input is data).
 */
function conv2d(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const c = layer as unknown as ConvFields;
  let y: tf.Tensor = tf.conv2d(x as tf.Tensor4D, c.kernel.read() as tf.Tensor4D, c.strides as [number, number], c.padding as 'same' | 'valid');
  if (c.useBias && c.bias) y = tf.add(y, c.bias.read());
  return c.activation.getClassName() === 'linear' ? y : c.activation.apply(y);
}

function callLayer(layer: tf.layers.Layer, x: tf.Tensor, kwargs: Kwargs): tf.Tensor {
  return isPlainConv2D(layer) ? conv2d(layer, x) : (layer.call(x, kwargs) as tf.Tensor);
}

/** The layers of `model` if it is a plain chain we can run directly, else null. */
export function chainLayers(model: tf.LayersModel): tf.layers.Layer[] | null {
  if (!(model instanceof tf.Sequential)) return null;
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

/**
 * model.apply(x, kwargs), faster for a chain; identical results (the same layer call()s). With `release` (a pass no
 * gradient will be taken of, such as scoring) each layer's output, and what it made on the way, is disposed once the
 * next layer has read it, as model.apply does when not training: holding every activation of a batch of 256 to the
 * end grew the wasm heap from 27 to 67 MB, and the first such pass took twice as long while the heap grew.
 */
export function forward(model: tf.LayersModel, chain: tf.layers.Layer[] | null, x: tf.Tensor, kwargs: Kwargs, release = false): tf.Tensor {
  if (!chain) return model.apply(x, kwargs) as tf.Tensor;
  let h = x;
  for (const layer of chain) {
    if (!release) {
      h = callLayer(layer, h, kwargs);
      continue;
    }
    const input = h;
    h = tf.tidy(() => callLayer(layer, input, kwargs));
    if (input !== x && h !== input) input.dispose();
  }
  return h;
}
