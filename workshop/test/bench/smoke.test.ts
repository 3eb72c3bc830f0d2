import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { concurrencyLimit } from '../../../test/support/concurrency-limit.js';
import { repoRoot } from '../../../test/support/local-stack.js';

/**
 * Benchmarks are not tests, but one that no longer runs is a broken promise in bench/README.md.
 * Each runs here once at a tiny size, with BENCH_RECORD=off so that a smoke run's numbers never
 * land in bench/results/. Only that it runs and prints its ratio is checked, never a timing.
 * They run two at a time, longest first: each spends most of its time starting services one after
 * another, so two keep both cores busy, and more would only queue for them.
 */
describe('benchmark smoke runs', () => {
  const runs: [script: string, env: Record<string, string>, expected: RegExp[]][] = [
    [
      'cold-start.mjs',
      // One batch of requests, and the idle reading as soon as the service is ready.
      { RUNS: '1', REQUESTS: '20', IDLE_SECONDS: '0' },
      [
        /backend\s+live \d+ ms, ready \d+ ms/,
        /frontend\s+live \d+ ms/,
        /telemetry costs [\d.]+× ready time/,
      ],
    ],
    [
      'upload.mjs',
      { ROUNDS: '1', FILE_BYTES: String(1024 * 1024), UPLOADS_IN_FLIGHT: '2' },
      [
        /frontend [\d.]+ MiB\/s .* direct uploadStream [\d.]+ MiB\/s/,
        /→ frontend ÷ direct [\d.]+×/,
        /2 upload\(s\) in flight: .* MiB per upload/,
      ],
    ],
    [
      'pipeline.mjs',
      { RATES: '10', SECONDS_PER_RATE: '2', ROUNDS: '1' },
      // Every document of both workers' rounds is processed: 20 of 20 at 10/s for 2 s.
      [
        /backend [\d.]+\/s \([\d–]+\) p50 \d+ ms p99 \d+ ms \(20\/20\)\s+bare [\d.]+\/s \([\d–]+\) p50 \d+ ms p99 \d+ ms \(20\/20\)\s+→ throughput [\d.]+× the bare loop's/,
      ],
    ],
    [
      'round-trips.mjs',
      { DOCUMENTS: '10' },
      [/→ backend [\d.]+ vs bare [\d.]+ round trips per document; CPU [\d.]+ vs [\d.]+ ms/],
    ],
    [
      'token-requests.mjs',
      { OPERATIONS: '40' },
      [
        /shared credential \+ client \(this repo\)\s+1 token requests .* 0 failed/,
        /→ \d+× fewer token requests/,
      ],
    ],
    [
      'test-time.mjs',
      // A small filter and its own report file: the outer run's report is not touched.
      { TEST_REPORT: 'test-results/bench-smoke-vitest.json' },
      [/→ [\d.]+ s wall for 1 files \(\d+ passed, 0 failed, 0 skipped\)/],
    ],
  ];

  const lane = concurrencyLimit(2);
  it.concurrent.for(runs)(
    '%s runs and prints its ratio',
    // Long enough to wait for a lane too.
    { timeout: 600_000 },
    async ([script, env, expected], { expect }) => {
      await lane(async () => {
        const before = await resultFiles();
        const args = script === 'test-time.mjs' ? ['packages/azure/src/credential'] : [];
        const { code, output } = await run(join(repoRoot, 'bench', script), args, env);
        expect(code, output).toBe(0);
        for (const pattern of expected) expect(output).toMatch(pattern);
        expect(output).toContain('not recorded (BENCH_RECORD=off)');
        expect(await resultFiles()).toEqual(before);
      });
    },
  );
});

async function resultFiles(): Promise<Record<string, string>> {
  const dir = join(repoRoot, 'bench/results');
  const names = await readdir(dir);
  return Object.fromEntries(
    await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')])),
  );
}

function run(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env, BENCH_RECORD: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}
