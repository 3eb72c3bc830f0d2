#!/usr/bin/env node
// Runs every test (unit specs beside the code, cross-service tests under test/) with Vitest and
// ends with one summary line, `N passed, N failed, N skipped`, that CI and people can read.
// Skipped tests are listed by name: a suite that silently skips is a defect.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// TEST_REPORT: where Vitest's JSON report goes (a benchmark of the test run may keep its own).
const report = process.env.TEST_REPORT ?? 'test-results/vitest.json';
mkdirSync(new URL('../test-results', import.meta.url), { recursive: true });

const started = Date.now();
const vitest = spawn(
  process.execPath,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    // `pnpm test -- x` passes a literal `--`, which would make Vitest ignore the filter after it.
    ...process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--')),
  ],
  { cwd: root, stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => vitest.kill(signal));
const code = await new Promise((resolve) =>
  vitest.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))),
);

let summary;
try {
  summary = JSON.parse(readFileSync(new URL(`../${report}`, import.meta.url), 'utf8'));
} catch {
  console.log('0 passed, 1 failed (vitest wrote no report)');
  process.exit(code || 1);
}
const skipped = summary.testResults.flatMap((file) =>
  file.assertionResults
    .filter(
      (test) => test.status === 'skipped' || test.status === 'pending' || test.status === 'todo',
    )
    .map((test) => `${file.name.replace(root, '')}: ${test.fullName}`),
);
if (skipped.length > 0) {
  console.log(`\nSkipped tests (${skipped.length}):`);
  for (const name of skipped) console.log(`  - ${name}`);
}
const failedSuites = summary.numFailedTestSuites;
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\nTest time: ${seconds} s; failed files: ${failedSuites}`);
const failed =
  summary.numFailedTests + (failedSuites > 0 && summary.numFailedTests === 0 ? failedSuites : 0);
console.log(`${summary.numPassedTests} passed, ${failed} failed, ${skipped.length} skipped`);
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
