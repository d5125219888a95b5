// Names that the server, the engine and the dashboard all spell: one home each, browser-safe (no imports at run time).

/**
 * How every hint spells a command to type: in a clone the binary is not on PATH (`renorm-tune: command not found`),
 * while `npx renorm-tune` works there and in a project that installed the package alike (the README's spelling too).
 */
export const CLI = 'npx renorm-tune';

/**
 * One word of such a command as a POSIX shell reads it back, so a hint pastes as is: plain when it is plain,
 * else in single quotes (a database in `~/My Studies/`; study names need none).
 */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** How a queue study's coordinator is started, as its workers' messages quote it. */
export const RUN_COORDINATOR = `\`${CLI} run <config> --db <same database> --redis <same Redis>\``;

/** TF.js backends in the automatic order (`auto` picks the first that works: node-gpu, node, wasm, cpu). */
export const BACKEND_NAMES = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The optional native TF.js packages, by the backend each provides. */
export const NATIVE_PACKAGES = { 'node-gpu': '@tensorflow/tfjs-node-gpu', node: '@tensorflow/tfjs-node' } as const;

/**
 * The fix for a native package missing (or failing to load): the version matching our @tensorflow/tfjs, installed where
 * renorm-tune is (a global install finds one installed globally beside it).
 */
export function nativeInstallFix(pkg: string): string {
  return `npm install ${pkg}@4.22.0 where renorm-tune is installed (npm install -g beside a global install)`;
}

/**
 * The response header with the server's renorm-tune version, on every /api answer: a client of another version (the
 * Python client, installed apart from the server) can say so once rather than fail later on a field it does not know.
 */
export const VERSION_HEADER = 'Renorm-Tune-Version';

/** Acquisition functions of the GP optimizer. */
export const ACQUISITIONS = ['logei', 'ucb', 'pi'] as const;
export type AcquisitionName = (typeof ACQUISITIONS)[number];

/** Optimizers of the training scenario (the trainer's, not the hyperparameter optimizer's). */
export const TRAINING_OPTIMIZERS = ['adam', 'sgd', 'momentum'] as const;
export type TrainingOptimizerName = (typeof TRAINING_OPTIMIZERS)[number];

/** Hyperparameter optimizers a study can use. */
export const OPTIMIZER_KINDS = ['gp', 'random'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** Which way the objective is better. */
export type Direction = 'minimize' | 'maximize';

/** BatchRenormalization's renormMomentum when a schedule sets none (Keras's default too). */
export const DEFAULT_RENORM_MOMENTUM = 0.99;
