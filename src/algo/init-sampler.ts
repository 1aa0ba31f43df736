// The task-aware init-state sampler: yields {task, init} contexts from the train split of every task, in a seeded
// shuffle that is redrawn each epoch. Its whole state is (epoch, position), so a checkpoint resumes the sequence.
import { RiptideError } from '../errors.ts';
import { Rng } from '../rng.ts';

export interface Context {
  /** Index into the run's task list. */
  task: number;
  /** Init-state index within that task. */
  init: number;
}

export interface SamplerState {
  epoch: number;
  position: number;
}

export class InitStateSampler {
  readonly contexts: readonly Context[];
  readonly #seed: number;
  #order: Context[] = [];
  #epoch = -1;
  #position = 0;

  /** `inits[t]` lists the init-state indices of task t to sample from (its train split). */
  constructor(inits: readonly (readonly number[])[], seed: number) {
    this.contexts = inits.flatMap((list, task) => list.map((init) => ({ task, init })));
    if (this.contexts.length === 0) throw new RiptideError('init-state sampler: the tasks have no train init states (regenerate them with `riptide tasks init-states`)');
    this.#seed = seed;
    this.restore({ epoch: 0, position: 0 });
  }

  next(): Context {
    if (this.#position >= this.#order.length) this.restore({ epoch: this.#epoch + 1, position: 0 });
    return this.#order[this.#position++];
  }

  state(): SamplerState {
    return { epoch: this.#epoch, position: this.#position };
  }

  restore(s: SamplerState): void {
    if (s.epoch !== this.#epoch) {
      const rng = new Rng((this.#seed ^ Math.imul(s.epoch + 1, 0x2545f491)) >>> 0);
      const order = [...this.contexts];
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      this.#order = order;
      this.#epoch = s.epoch;
    }
    this.#position = s.position;
  }
}
