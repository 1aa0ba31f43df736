// Worker bootstrap: Node 20 cannot start a .ts worker entry under tsx (spec/node-runtime.md finding 10), so every
// actor worker starts here, registers tsx, then imports its TypeScript entry named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
