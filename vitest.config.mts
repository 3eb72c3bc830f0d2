import { availableParallelism } from 'node:os';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// One config for the whole monorepo: unit specs beside the code, cross-service tests under test/.
// SWC (not esbuild) compiles the tests because Nest's DI needs emitted decorator metadata.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    // test/: the template's tests. The maintainers' own tooling keeps its tests in a test/ folder
    // of its own top-level folder, which the second glob takes: deleting it needs no edit here.
    include: [
      'packages/*/src/**/*.spec.ts',
      'services/*/src/**/*.spec.ts',
      'test/**/*.test.ts',
      '*/test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/env-guard.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Each worker keeps its module cache from one file to the next: Nest, the Azure SDKs and the
    // test support modules load once per worker instead of once per file (import time 92 s → 15 s,
    // the whole run 711 → 561 CPU-seconds; bench/results/test-time.md). The price is that a file
    // must leave no global state behind: environment changes go through vi.stubEnv, which
    // unstubEnvs undoes before the next test (test/support/env-guard.ts fails a file that assigns
    // process.env instead), and fake timers are put back in an afterEach.
    isolate: false,
    unstubEnvs: true,
    // Vitest's default is one worker per core minus one: a single worker on a 2-core CI machine,
    // every file in turn. These files mostly wait (on child processes, 30 s outages, paced load),
    // so one worker more than the cores keeps both cores busy: on two cores, 3 workers took 246 s
    // against 298 s for 2 and 267 s for 4 (bench/results/test-time.md, 2026-12-02 18:00). Three
    // once let a browser test time out beside an image build, when every file still loaded its
    // modules afresh (isolate) and the browser tests allowed 30 s; they allow 60 s now.
    maxWorkers: availableParallelism() + 1,
  },
});
