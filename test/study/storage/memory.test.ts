// Runs the shared Storage conformance suite against the RAM store.
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { storageConformance } from './conformance.js';

storageConformance('MemoryStorage', () => new MemoryStorage());
