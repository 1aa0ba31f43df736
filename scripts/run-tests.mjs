// Runs the uvu suite under tsx and prints the one-line summary CI reads: "N passed, N failed, N skipped".
// uvu itself exits 0 when no test ran; this wrapper fails then.
// Usage: node scripts/run-tests.mjs [pattern]   (pattern: a regex on test file paths, default all)
import { spawnSync } from 'node:child_process';

// Only *.test.ts files ever run, whatever the pattern matches (fixtures such as .bddl files live next to tests).
const pattern = `^(?=.*(?:${process.argv[2] ?? ''})).*\\.test\\.ts$`;
const r = spawnSync(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', pattern, '-c', 'false'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 256 * 1024 * 1024,
});
process.stdout.write(r.stdout ?? '');
const num = (key) => Number((r.stdout?.match(new RegExp(`^\\s*${key}:\\s+(\\d+)`, 'm')) ?? [])[1] ?? NaN);
const total = num('Total');
const passed = num('Passed');
const skipped = num('Skipped');
if (Number.isNaN(total)) {
  console.log('0 passed, 1 failed, 0 skipped');
  console.error('test run crashed before uvu printed its summary');
  process.exit(r.status || 1);
}
console.log(`${passed} passed, ${total - passed} failed, ${skipped} skipped`);
if (total === 0) console.error('no test ran: failing the run');
process.exit(r.status !== 0 ? r.status : total === 0 ? 1 : 0);
