import { afterAll, beforeAll, vi } from 'vitest';

/**
 * A setup file: it runs around every test file. Workers keep one process for many files
 * (vitest.config.mts: isolate: false), so a variable one file sets is seen by every later file in
 * that worker, and by every process those files start. A file that assigns process.env instead of
 * stubbing it fails here, naming the variables it left behind.
 */
let before: Record<string, string | undefined> = {};

/**
 * Written by a library when it loads, the same value in every process: @azure/monitor-opentelemetry
 * records its version there for the exporter's user agent.
 */
const SET_BY_LIBRARIES = new Set(['AZURE_MONITOR_DISTRO_VERSION']);

beforeAll(() => {
  before = { ...process.env };
});

afterAll(() => {
  // The last test's stubs are undone before the next test runs, which may be in the next file.
  vi.unstubAllEnvs();
  const changed = changedVariables(before, process.env);
  if (changed.length > 0) {
    throw new Error(
      `this file left process.env changed: ${changed.join(', ')} (use vi.stubEnv, which vitest undoes)`,
    );
  }
});

function changedVariables(
  before: Record<string, string | undefined>,
  after: Record<string, string | undefined>,
): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names]
    .filter((name) => !SET_BY_LIBRARIES.has(name) && before[name] !== after[name])
    .sort();
}
