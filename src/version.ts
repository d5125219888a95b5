// The package version, read once from package.json (reported by /api/health, stamped on exports and on stored schemas).
import { createRequire } from 'node:module';

// This file runs as dist/src/version.js: package.json is two folders up.
export const PACKAGE_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
