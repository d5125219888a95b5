// tf.train.adam with the per-variable update done by one fused kernel where registered (wasm, cpu).
import * as tf from '@tensorflow/tfjs';
import { FUSED_ADAM } from './kernels/adam_kernel.js';

interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

/**
 * Same state, weights and serialization as tfjs' AdamOptimizer (it is one), so saved optimizer state stays
 * compatible; only applyGradients changes, and only where the fused kernel exists for the active backend.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(learningRate, beta1, beta2, epsilon ?? undefined);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const self = this as unknown as AdamInternals;
    const t = this.iterations + 1; // the getter: iterations_ starts undefined
    if (!tf.getKernel(FUSED_ADAM, tf.getBackend())) {
      tf.tidy(() => {
        self.accBeta1.assign(tf.scalar(self.beta1 ** t));
        self.accBeta2.assign(tf.scalar(self.beta2 ** t));
      });
      super.applyGradients(variableGradients);
      return;
    }
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const attrs = {
      learningRate: self.learningRate,
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      oneMinusAccBeta1: 1 - self.beta1 ** t,
      oneMinusAccBeta2: 1 - self.beta2 ** t,
    };
    const engine = tf.engine();
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = engine.registeredVariables[name]!;
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const grad = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (grad == null) return;
        const m = self.accumulatedFirstMoment[i]!.variable;
        const v = self.accumulatedSecondMoment[i]!.variable;
        const [w2, m2, v2] = engine.runKernel(FUSED_ADAM, { value, grad, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(m2!);
        v.assign(v2!);
        value.assign(w2!);
      });
    });
    this.incrementIterations();
  }
}
