// Runs the shared Storage conformance suite against the RAM store (with a fake clock, so lease expiry needs no sleep).
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { storageConformance } from './conformance.js';

storageConformance('MemoryStorage', async () => {
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  const storage = new MemoryStorage(() => nowMs);
  return { storage, advance: async (ms) => void (nowMs += ms) };
});
