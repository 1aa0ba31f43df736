// Worker entry of the rollout actor (logic: src/runtime/rollout-actor.ts).
import { workerData, type MessagePort } from 'node:worker_threads';

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

import type { ActionSpec, ObsSpec } from '../src/runtime/layouts.ts';
import { RolloutActor, type RolloutSetup } from '../src/runtime/rollout-actor.ts';
import type { RingDescriptor } from '../src/runtime/slot-ring.ts';
import type { BoardDescriptor } from '../src/runtime/weights-board.ts';

let actor: RolloutActor | undefined;

const api = {
  /** Builds the policy and starts the loop; returns the weights board the learner publishes into. */
  configure(setup: RolloutSetup): BoardDescriptor {
    actor = new RolloutActor(setup);
    actor.run().catch((e) => {
      setImmediate(() => {
        throw e;
      });
    });
    return actor.board;
  },
  attach(env: number, obs: RingDescriptor<ObsSpec>, actions: RingDescriptor<ActionSpec>): void {
    actor!.attach(env, obs, actions);
  },
  setCfgScale(scale: number): void {
    actor!.setCfgScale(scale);
  },
  health() {
    return { alive: actor !== undefined, stats: actor?.stats() };
  },
  sent() {
    return actor?.sent ?? [];
  },
  /** Timed activity spans recorded so far (settings.timeline). */
  spans() {
    return actor?.spans ?? [];
  },
  stop(): void {
    actor?.stop();
  },
};
export type RolloutActorApi = typeof api;

Comlink.expose(api, nodeEndpoint((workerData as { port: MessagePort }).port));
