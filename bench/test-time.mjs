#!/usr/bin/env node
// `pnpm test` wall time: runs the test command (without its build step; run `pnpm build` first)
// and records the wall time, the counts and the slowest files. The ratio is the sum of the files'
// own durations over the wall time: how much the parallel file runs save on this machine.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { record, root } from './lib.mjs';

const started = performance.now();
const run = spawnSync(process.execPath, [`${root}scripts/test.mjs`, ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});
const wallSeconds = (performance.now() - started) / 1000;
const report = JSON.parse(
  readFileSync(`${root}${process.env.TEST_REPORT ?? 'test-results/vitest.json'}`, 'utf8'),
);
const files = report.testResults
  .map((file) => ({
    name: file.name.replace(root, ''),
    seconds: (file.endTime - file.startTime) / 1000,
  }))
  .sort((a, b) => b.seconds - a.seconds);
const fileSeconds = files.reduce((sum, file) => sum + file.seconds, 0);
const ratio = fileSeconds / wallSeconds;
const counts = `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`;
console.log(
  `\n→ ${wallSeconds.toFixed(1)} s wall for ${files.length} files (${counts}); the files' own times add up to ${fileSeconds.toFixed(0)} s: ${ratio.toFixed(2)}× from running files in parallel`,
);
record(
  'test-time',
  '`pnpm test` wall time',
  `\`node bench/test-time.mjs\` (the test command without its build step${process.argv.length > 2 ? `, filter \`${process.argv.slice(2).join(' ')}\`` : ''}): ${wallSeconds.toFixed(1)} s wall, ${counts}, exit ${run.status}. The ${files.length} files' own durations add up to ${fileSeconds.toFixed(0)} s, ${ratio.toFixed(2)}× the wall time.

| slowest files | s |
| --- | ---: |
${files
  .slice(0, 8)
  .map((file) => `| ${file.name} | ${file.seconds.toFixed(1)} |`)
  .join('\n')}`,
);
process.exit(run.status ?? 1);
