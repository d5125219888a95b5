// Placeholder until the owning package registers its commands.
import type { Command } from 'commander';

export function register(_program: Command): void {}
