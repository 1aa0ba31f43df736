// Opening a task by name or by BDDL path: parse, check against the library, build the scene, find its init states.
import { existsSync } from 'node:fs';

import { RiptideError } from '../errors.ts';
import { readBddl } from './bddl.ts';
import { loadInitStates, type InitSplit } from './init-states.ts';
import { buildScene, type TaskScene } from './scene.ts';
import { findTask, type TaskEntry } from './suites/index.ts';
import type { InitState, TaskEnv } from './task-env.ts';

/** Policy step budget for a BDDL file outside the suites (libero_10's, the longest). */
const DEFAULT_MAX_STEPS = 520;

export interface Task {
  /** 'suite/name' for built-in tasks, the path for a user's BDDL file. */
  ref: string;
  entry?: TaskEntry;
  scene: TaskScene;
  language: string;
  maxSteps: number;
  /** Where the task's init states live (next to its BDDL file). */
  initFile: string;
}

/** A built-in task ('libero_10/3', 'libero_goal:turn_on_the_stove', a task name) or a path to a .bddl file. */
export function openTask(ref: string): Task {
  if (ref.endsWith('.bddl') || existsSync(ref)) {
    if (!existsSync(ref)) throw new RiptideError(`${ref}: no such BDDL file`);
    const scene = buildScene(readBddl(ref));
    return { ref, scene, language: scene.problem.language, maxSteps: DEFAULT_MAX_STEPS, initFile: initFileOf(ref) };
  }
  const entry = findTask(ref);
  const scene = buildScene(readBddl(entry.file));
  return { ref: `${entry.suite}/${entry.name}`, entry, scene, language: entry.language, maxSteps: entry.maxSteps, initFile: initFileOf(entry.file) };
}

export function initFileOf(bddlFile: string): string {
  return bddlFile.replace(/\.bddl$/, '') + '.init.json';
}

/** The task's stored init states (all, or the train / test split), checked against env's model. */
export function taskInitStates(task: Task, env: TaskEnv, split: InitSplit = 'all'): InitState[] {
  const { nq, nv, nmocap } = env.env;
  return loadInitStates(task.initFile, task.scene, { task: task.ref, nq, nv, nmocap, split });
}
