// Actor lifecycle on the main thread: start a long-lived Worker for an actor entry (actors/*.ts), talk to it over
// comlink on a dedicated MessageChannel (control plane only: configure, health, stop), and notice when it dies.
// A call to a dead actor rejects with ActorDiedError instead of hanging (comlink alone would wait forever).
import { MessageChannel, Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

import { RiptideError } from '../errors.ts';

const ACTORS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../actors');

export class ActorDiedError extends RiptideError {
  override name = 'ActorDiedError';
}

export interface ActorExit {
  code: number;
  error?: Error;
}

export class ActorHandle<API> {
  readonly name: string;
  readonly api: Comlink.Remote<API>;
  /** Resolves once the worker has exited, for whatever reason. */
  readonly exited: Promise<ActorExit>;
  #exit: ActorExit | undefined;
  readonly #worker: Worker;

  private constructor(name: string, entry: string, onExit: (exit: ActorExit) => void) {
    this.name = name;
    const { port1, port2 } = new MessageChannel();
    this.#worker = new Worker(path.join(ACTORS_DIR, 'boot.mjs'), {
      workerData: { entry: pathToFileURL(path.join(ACTORS_DIR, entry)).href, port: port2 },
      transferList: [port2],
    });
    let error: Error | undefined;
    this.#worker.on('error', (e) => (error = e));
    this.exited = new Promise((resolve) => {
      this.#worker.on('exit', (code) => {
        this.#exit = { code, error };
        port1.close();
        resolve(this.#exit);
        onExit(this.#exit);
      });
    });
    this.api = Comlink.wrap<API>(nodeEndpoint(port1));
  }

  /** Starts the worker of `entry` (a file in actors/); onExit runs when it exits, expectedly or not. */
  static start<API>(name: string, entry: string, onExit: (exit: ActorExit) => void = () => {}): ActorHandle<API> {
    return new ActorHandle<API>(name, entry, onExit);
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** Runs an RPC; rejects with ActorDiedError if the worker exits before it answers. */
  async call<R>(f: (api: Comlink.Remote<API>) => Promise<R>): Promise<R> {
    if (this.#exit) throw this.#died(this.#exit);
    const died = this.exited.then((x) => Promise.reject(this.#died(x)));
    died.catch(() => {});
    return Promise.race([f(this.api), died]);
  }

  #died(x: ActorExit): ActorDiedError {
    return new ActorDiedError(`${this.name} exited (code ${x.code})${x.error ? `: ${x.error.message}` : ''}`);
  }

  /** Terminates the worker now (fault injection, or after a failed stop). */
  async kill(): Promise<void> {
    await this.#worker.terminate();
    await this.exited;
  }

  /** Asks the actor to stop, then terminates its worker (after at most timeoutMs). */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.alive) return;
    const api = this.api as unknown as { stop?: () => Promise<void> };
    await Promise.race([this.call(() => api.stop?.() ?? Promise.resolve()).catch(() => {}), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.api[Comlink.releaseProxy]();
    await this.kill();
  }
}
