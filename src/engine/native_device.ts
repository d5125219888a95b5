// Which device a native TF.js backend computes on. tfjs-node-gpu loads even where TensorFlow cannot use the GPU (its
// CUDA or cuDNN libraries missing or of another version, no driver, CUDA_VISIBLE_DEVICES naming no GPU): TensorFlow
// then logs that it skips the GPU and runs every op on the CPU, and nothing else tells. Asked for by name, that is an
// error; picked by `auto`, a warning. Either way the device is reported with the backend.
import { BackendError } from '../errors.js';
import { NATIVE_PACKAGES } from '../shared/names.js';

export type Device = 'GPU' | 'CPU';

/** What tfjs-node's kernel backend says of itself (set in its constructor, from its binding's device list). */
export interface NativeBackendFlags {
  isUsingGpuDevice?: unknown;
}

/** Why tfjs-node-gpu may find no GPU, and what to check, for this process's environment. */
export function noGpuDiagnosis(env: NodeJS.ProcessEnv = process.env): string {
  const visible = env.CUDA_VISIBLE_DEVICES;
  const devices = visible === undefined ? '' : `CUDA_VISIBLE_DEVICES is '${visible}' in this process (a --devices entry names one GPU index per slot); `;
  return (
    `${devices}tfjs-node-gpu 4.22 needs the CUDA 11.2 and cuDNN 8.1 libraries where the loader finds them ` +
    `(LD_LIBRARY_PATH) and an NVIDIA driver (nvidia-smi lists the GPUs); TensorFlow's own lines above name the ` +
    `library it could not open`
  );
}

/**
 * The device `name`'s backend computes on, from its flags (none when they do not say). node-gpu without a GPU throws
 * when it was asked for by name (`required`), and otherwise comes back with the warning to print.
 */
export function nativeDevice(
  name: 'node-gpu' | 'node',
  flags: NativeBackendFlags,
  required: boolean,
  env: NodeJS.ProcessEnv = process.env,
): { device?: Device; warning?: string } {
  // A build without the flag cannot say: its device stays unknown rather than guessed.
  if (typeof flags.isUsingGpuDevice !== 'boolean') return {};
  if (flags.isUsingGpuDevice) return { device: 'GPU' };
  if (name === 'node') return { device: 'CPU' };
  const what = `backend 'node-gpu': ${NATIVE_PACKAGES['node-gpu']} loaded, but TensorFlow found no GPU`;
  if (required) {
    throw new BackendError(`${what} and would train on the CPU: ${noGpuDiagnosis(env)} (fix: make the GPU visible to TensorFlow as above, or choose backend 'wasm')`);
  }
  return {
    device: 'CPU',
    warning: `${what}: trials train on the CPU (native TensorFlow), far slower. ${noGpuDiagnosis(env)}. Ask for backend 'node-gpu' by name to make this an error.`,
  };
}
