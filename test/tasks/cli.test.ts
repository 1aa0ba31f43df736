// `riptide tasks show`: a built-in task or a user's BDDL file is parsed, built and compiled and described; a bad
// file exits non-zero with the file, the line and the supported choices.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

const dir = mkdtempSync(path.join(os.tmpdir(), 'riptide-cli-'));
const riptide = (...args: string[]) => spawnSync(process.execPath, ['bin/riptide.mjs', ...args], { encoding: 'utf8' });

test('tasks show describes a user BDDL file (LIBERO\'s own libero_object file) and compiles it', () => {
  const r = riptide('tasks', 'show', 'test/tasks/fixtures/pick_up_the_alphabet_soup_and_place_it_in_the_basket.bddl');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /instruction "Pick the alphabet soup and place it in the basket"/);
  assert.match(r.stdout, /goal\s+\(in alphabet_soup_1 basket_1_contain_region\)/);
  assert.match(r.stdout, /compiled in \d+ ms/);
});

test('tasks show exits non-zero naming the file, the line and the supported categories', () => {
  const file = path.join(dir, 'bad.bddl');
  writeFileSync(
    file,
    `(define (problem LIBERO_Floor_Manipulation) (:domain robosuite) (:language x)
  (:fixtures floor - floor)
  (:objects
    teapot_1 - teapot)
  (:init) (:goal (And (Up teapot_1))))`,
  );
  const r = riptide('tasks', 'show', file);
  assert.is(r.status, 2);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:4: .*teapot.*alphabet_soup`));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
