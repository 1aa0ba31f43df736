// Worker entry of the learner actor (logic: src/runtime/learner-actor.ts).
import { workerData, type MessagePort } from 'node:worker_threads';

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

import type { Episode } from '../src/runtime/episode.ts';
import { LearnerActor, type LearnerSetup, type UpdatePlan } from '../src/runtime/learner-actor.ts';

let actor: LearnerActor | undefined;

const api = {
  /** Builds the model and publishes its weights as version 1. */
  configure(setup: LearnerSetup): Promise<number> {
    actor = new LearnerActor(setup);
    return actor.publish();
  },
  /** onProgress is a Comlink.proxy'd callback in the supervisor (calls are fire-and-forget messages). */
  update(episodes: Episode[], plan?: UpdatePlan, onProgress?: (done: number, total: number) => void) {
    return actor!.update(episodes, plan, onProgress && ((d, t) => void onProgress(d, t)));
  },
  save(dir: string, trainerState: unknown): void {
    actor!.save(dir, trainerState);
  },
  health() {
    return { alive: actor !== undefined, step: actor?.policy.step ?? 0 };
  },
  stop(): void {},
};
export type LearnerActorApi = typeof api;

Comlink.expose(api, nodeEndpoint((workerData as { port: MessagePort }).port));
