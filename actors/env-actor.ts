// Worker entry of an env actor (logic: src/runtime/env-actor.ts). Control plane over comlink; data plane in rings.
import { workerData, type MessagePort } from 'node:worker_threads';

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

import { EnvActor, type EnvActorSetup } from '../src/runtime/env-actor.ts';
import type { EpisodeJob } from '../src/runtime/episode.ts';

let actor: EnvActor | undefined;

const api = {
  /** Compiles the tasks' envs and starts the loop; an error (bad task, stale init states) rejects here. */
  configure(setup: EnvActorSetup): void {
    actor = new EnvActor(setup);
    actor.run().catch((e) => {
      // An actor that throws dies; the supervisor restarts it and re-runs its episodes.
      setImmediate(() => {
        throw e;
      });
    });
  },
  submit(jobs: EpisodeJob[]): void {
    actor!.submit(jobs);
  },
  health() {
    return { alive: actor !== undefined, pending: actor?.pending ?? 0, stats: actor?.stats() };
  },
  /** Timed activity spans recorded so far (settings.timeline). */
  spans() {
    return actor?.spans ?? [];
  },
  stop(): void {
    actor?.close();
  },
};
export type EnvActorApi = typeof api;

Comlink.expose(api, nodeEndpoint((workerData as { port: MessagePort }).port));
