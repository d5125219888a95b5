// Package root: the public API of renorm-tune.
export * from './errors.js';
export * from './schedule/index.js';
export * from './data/index.js';
export * from './engine/index.js';
export * from './train/index.js';
export * from './optimizer/index.js';
export * from './study/index.js';
export * from './server/index.js';
export { mountDashboard } from './server/dashboard.js';
