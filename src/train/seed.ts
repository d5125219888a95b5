// Makes weight initialisation reproducible: re-draws every randomly initialised weight with a seeded copy of its initializer.
import * as tf from '@tensorflow/tfjs';

type InitConfig = { className?: string; config?: Record<string, unknown> };
type Initializer = ReturnType<typeof tf.initializers.zeros>;

const VARIANCE_SCALING = new Set(['VarianceScaling', 'GlorotUniform', 'GlorotNormal', 'HeNormal', 'HeUniform', 'LeCunNormal', 'LeCunUniform']);
const DETERMINISTIC = new Set(['Zeros', 'Ones', 'Constant', 'Identity']);

/** tfjs initializers without a seed draw one from Math.random; a seeded initializer of the same class reproduces the distribution. */
function seeded(init: InitConfig, seed: number, where: string): Initializer | null {
  const name = init.className ?? '';
  const cfg = { ...(init.config ?? {}), seed };
  if (DETERMINISTIC.has(name)) return null;
  if (VARIANCE_SCALING.has(name)) {
    const { scale, mode, distribution } = cfg as { scale?: number; mode?: 'fanIn' | 'fanOut' | 'fanAvg'; distribution?: 'normal' | 'uniform' | 'truncatedNormal' };
    return tf.initializers.varianceScaling({ scale: scale ?? 1, mode: mode ?? 'fanIn', distribution: distribution ?? 'normal', seed });
  }
  if (name === 'RandomUniform') return tf.initializers.randomUniform(cfg as Parameters<typeof tf.initializers.randomUniform>[0]);
  if (name === 'RandomNormal') return tf.initializers.randomNormal(cfg as Parameters<typeof tf.initializers.randomNormal>[0]);
  if (name === 'TruncatedNormal') return tf.initializers.truncatedNormal(cfg as Parameters<typeof tf.initializers.truncatedNormal>[0]);
  throw new Error(`${where}: cannot seed initializer '${name}'; training would not be reproducible`);
}

function allLayers(layers: tf.layers.Layer[]): tf.layers.Layer[] {
  return layers.flatMap((l) => (l instanceof tf.LayersModel ? allLayers(l.layers) : [l]));
}

/** `conv1/kernel` -> `kernelInitializer`, `brn1/moving_mean` -> `movingMeanInitializer` (Keras' naming). */
function initializerKey(weightName: string): string {
  const base = weightName.slice(weightName.lastIndexOf('/') + 1).replace(/_\d+$/, '');
  return `${base.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())}Initializer`;
}

/** Re-initialises the built model's weights from `seed`; weights with deterministic initializers are left as built. */
export function seedModelWeights(model: tf.LayersModel, seed: number): void {
  let k = 0;
  for (const layer of allLayers(model.layers)) {
    const config = layer.getConfig() as Record<string, unknown>;
    for (const w of layer.weights) {
      const init = config[initializerKey(w.originalName)] as InitConfig | undefined;
      k++;
      if (!init || typeof init !== 'object') continue;
      const s = seeded(init, (seed * 1000003 + k) >>> 0, w.originalName);
      if (s) {
        tf.tidy(() => {
          w.write(s.apply(w.shape, w.dtype));
        });
      }
    }
  }
}
