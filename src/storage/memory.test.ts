import { runStorageConformance } from './conformance.js';
import { MemoryStorage } from './memory.js';

runStorageConformance({ name: 'memory', open: async () => new MemoryStorage() });
