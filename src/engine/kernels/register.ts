// Installs our wasm kernels over the stock ones, once, after the wasm backend has run its kernels' setup.
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterWasm, makeConv2DBackpropInputWasm } from './conv2d_grad.js';

let registered = false;

/** Must run after `tf.setBackend('wasm')` resolved: the stock kernels we fall back to are set up at init. */
export function registerWasmKernels(): void {
  if (registered) return;
  const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!stockInput) throw new Error('wasm backend has no Conv2DBackpropInput kernel to wrap');
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: makeConv2DBackpropInputWasm(stockInput.kernelFunc) as unknown as tf.KernelFunc,
  });
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
  });
  registered = true;
}
