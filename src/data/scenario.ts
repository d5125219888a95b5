// Deprecated path of the Scenario type, kept only for src/cli/run.ts until it imports ../train/scenario.js; then delete this file.
export type { Scenario } from '../train/scenario.js';
