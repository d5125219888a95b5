// Picks and initialises the TF.js backend once per process (thread), preferring native, then wasm SIMD, never silently cpu.
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BackendError } from '../errors.js';
import { registerCpuKernels, registerWasmKernels } from './kernels/register.js';
import { BACKEND_NAMES, NATIVE_PACKAGES, nativeInstallFix, type BackendName } from '../shared/names.js';
import { nativeDevice, type Device, type NativeBackendFlags } from './native_device.js';

export { BACKEND_NAMES, type BackendName } from '../shared/names.js';

const require = createRequire(import.meta.url);

/** The backend in use, and the device it computes on where it can say (wasm and cpu: the CPU). */
export interface ActiveBackend {
  name: string;
  device?: Device;
}

let active: Promise<ActiveBackend> | null = null;
let activeRequest: BackendName | null = null;

/**
 * Initialise the backend named by `name` ('auto' tries node-gpu, node, wasm, cpu in that order).
 * Idempotent: a second call with the same request (or 'auto' after anything) returns the first result.
 */
export function initBackend(name: BackendName = 'auto'): Promise<ActiveBackend> {
  if (!BACKEND_NAMES.includes(name)) {
    return Promise.reject(
      new BackendError(`backend: unknown backend '${String(name)}' (fix: use one of ${BACKEND_NAMES.join(', ')})`),
    );
  }
  if (active && (name === 'auto' || name === activeRequest)) return active;
  // A different explicit request (tests comparing backends) re-runs selection; setBackend is cheap once loaded.
  activeRequest = name;
  active = select(name);
  active.catch(() => {
    active = null;
    activeRequest = null;
  });
  return active;
}

async function select(name: BackendName): Promise<ActiveBackend> {
  if (name === 'node-gpu' || name === 'node') return initNative(name, true);
  if (name === 'wasm') return (await initWasm(true))!;
  if (name === 'cpu') return initCpu();
  for (const native of ['node-gpu', 'node'] as const) {
    const got = await initNative(native, false);
    if (got) return got;
  }
  const wasm = await initWasm(false);
  if (wasm) return wasm;
  process.stderr.write(
    '\n*** renorm-tune WARNING: falling back to the pure-JS cpu backend (about 100x slower than wasm). ' +
      'Training will crawl. Check that @tensorflow/tfjs-backend-wasm is installed. ***\n\n',
  );
  return initCpu();
}

// Fixes say "choose backend 'wasm'", not a flag: these errors reach `train` and `worker` (--backend) but also trials of
// `run`, whose only backend setting is the study config's field.
async function initNative(name: 'node-gpu' | 'node', required: true): Promise<ActiveBackend>;
async function initNative(name: 'node-gpu' | 'node', required: false): Promise<ActiveBackend | null>;
async function initNative(name: 'node-gpu' | 'node', required: boolean): Promise<ActiveBackend | null> {
  // Native packages are optional: a variable specifier keeps tsc from resolving (and demanding) them.
  const pkg: string = NATIVE_PACKAGES[name];
  try {
    await import(pkg);
  } catch (err) {
    if (!required) return null;
    throw new BackendError(
      `backend '${name}': ${pkg} is not installed or failed to load (${(err as Error).message.split('\n')[0]}) ` +
        `(fix: ${nativeInstallFix(pkg)}, or choose backend 'wasm')`,
    );
  }
  // The native package registers 'tensorflow' on the tfjs-core it resolves; it must be ours.
  if (!tf.findBackend('tensorflow')) {
    if (!required) return null;
    throw new BackendError(
      `backend '${name}': ${pkg} loaded but registered no 'tensorflow' backend on this @tensorflow/tfjs instance ` +
        `(fix: install a ${pkg} version matching @tensorflow/tfjs ${tf.version.tfjs})`,
    );
  }
  if (!(await tf.setBackend('tensorflow'))) {
    if (!required) return null;
    throw new BackendError(`backend '${name}': ${pkg} failed to initialise (fix: check its native install, or choose backend 'wasm')`);
  }
  await tf.ready();
  const { device, warning } = nativeDevice(name, tf.backend() as NativeBackendFlags, required);
  if (warning) process.stderr.write(`\n*** renorm-tune WARNING: ${warning} ***\n\n`);
  return device ? { name, device } : { name };
}

let wasmPathsSet = false;

async function initWasm(required: boolean): Promise<ActiveBackend | null> {
  try {
    const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet) {
      // The node bundle lives in dist/ next to the three .wasm builds; pointing the prefix there lets the
      // backend pick tfjs-backend-wasm-simd.wasm itself (Node has SIMD; threads are off in Node by design).
      const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
      wasm.setWasmPaths(dist + path.sep);
      wasmPathsSet = true;
    }
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    await tf.ready();
    registerWasmKernels();
    return { name: 'wasm', device: 'CPU' };
  } catch (err) {
    if (!required) return null;
    throw new BackendError(
      `backend 'wasm' failed to initialise: ${(err as Error).message} (fix: npm install @tensorflow/tfjs-backend-wasm@${tf.version.tfjs})`,
    );
  }
}

async function initCpu(): Promise<ActiveBackend> {
  if (!(await tf.setBackend('cpu'))) throw new BackendError("backend 'cpu' failed to initialise (fix: reinstall @tensorflow/tfjs)");
  await tf.ready();
  // The cpu backend advertises tfjs-node on its first write; choosing cpu here is deliberate (auto already
  // warned when it fell back), and the banner would land after `bench train --json`'s last line.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  registerCpuKernels();
  return { name: 'cpu', device: 'CPU' };
}

/** Whether the wasm build with SIMD instructions is the one in use (false on cpu/native backends). */
export async function wasmSimdActive(): Promise<boolean> {
  return tf.getBackend() === 'wasm' && Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
}
