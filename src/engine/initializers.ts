// Resolves initializer options (name, Initializer object, or serialized {className, config}) without tfjs-layers internals.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';

/** tfjs-layers' Initializer type, reached through a public factory so we never import its private paths. */
export type Initializer = ReturnType<typeof tf.initializers.ones>;
export type InitializerIdentifier = string | Initializer | { className: string; config?: tf.serialization.ConfigDict };

function isInitializer(x: unknown): x is Initializer {
  return typeof x === 'object' && x !== null && typeof (x as { apply?: unknown }).apply === 'function' &&
    typeof (x as { getClassName?: unknown }).getClassName === 'function';
}

/** 'zeros', 'glorot_uniform', 'GlorotUniform' all name the same registered class. */
function className(name: string): string {
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const fixed = camel === 'leCunNormal' || camel === 'lecunNormal' ? 'LeCunNormal'
    : camel === 'leCunUniform' || camel === 'lecunUniform' ? 'LeCunUniform' : camel;
  return fixed.charAt(0).toUpperCase() + fixed.slice(1);
}

export function resolveInitializer(id: InitializerIdentifier | undefined | null, fallback: string, field: string): Initializer {
  if (id == null) id = fallback;
  if (isInitializer(id)) return id;
  const spec = typeof id === 'string' ? { className: className(id), config: {} } : id;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  if (!entry) {
    throw new ConfigError(field, `unknown initializer '${spec.className}'`, "use e.g. 'zeros', 'ones', 'glorotUniform', or tf.initializers.*()");
  }
  const [cls, fromConfig] = entry;
  const made = fromConfig(cls, spec.config ?? {});
  if (!isInitializer(made)) throw new ConfigError(field, `'${spec.className}' is not an initializer`, "use e.g. 'zeros' or 'ones'");
  return made;
}

export function serializeInitializer(init: Initializer): tf.serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}
