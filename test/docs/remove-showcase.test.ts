// docs/forking.md, "Remove the showcase", done: the recipe's block, read from the page, runs on a
// copy of the repository (the working tree is never written to), and what is left is a whole
// template: no code names the Identity report, its module or its types; the packages typecheck
// and build; the unit specs of the files the recipe edited pass. node_modules is linked, never
// installed (the recipe changes no dependency).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  filesMentioning,
  linkNodeModules,
  runShell,
  scratchCopy,
  withCopysPnpm,
} from '../support/scratch-copy.js';
import { codeBlocks, repoRoot, shellCommands } from './support/markdown.js';

const page = join(repoRoot, 'docs', 'forking.md');
const recipe = codeBlocks(page).find((block) => block.snippet === 'remove-showcase');

/** What the showcase's code is called: none of it may be left outside the docs' prose. */
const SHOWCASE_NAMES =
  /identity-report|IdentityReport|IdentityModule|TokenRecorder|DeclaredDenials|IdentityDiagnosis|renderIdentityPage|identity\.page|\/identity\/caller|\/api\/identity|IDENTITY_PAGE|identityPage|\[showcase\]/;

describe('docs/forking.md: Remove the showcase, followed on a copy of the repository', () => {
  let dir: string;
  let deleted: string[];
  let edited: string[];

  beforeAll(() => {
    expect(recipe, 'docs/forking.md has one block marked snippet: remove-showcase').toBeDefined();
    dir = scratchCopy('remove-showcase');
    // The recipe's last step runs prettier from node_modules.
    linkNodeModules(dir);
    for (const { command } of shellCommands(recipe!)) runShell(withCopysPnpm(command, dir), dir);
    const changed = (filter: string) =>
      runShell(`git diff --name-only --diff-filter=${filter} HEAD`, dir)
        .split('\n')
        .filter(Boolean);
    deleted = changed('D');
    edited = changed('M');
  }, 600_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('deletes the showcase’s folders and edits only lines that carried the marker', () => {
    for (const folder of [
      'packages/azure/src/identity-report',
      'services/backend/src/identity',
      'services/frontend/src/identity',
    ]) {
      expect(existsSync(join(dir, folder)), folder).toBe(false);
    }
    // The template is still there: the token cache, the probes readiness runs, the services.
    for (const file of [
      'packages/azure/src/credential/single-flight-credential.ts',
      'packages/azure/src/health/permission-probes.ts',
      'services/backend/src/app.module.ts',
      'services/frontend/src/app.module.ts',
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    // The recipe only deletes: each run of deleted lines starts and ends on a marked line (a
    // marked line alone, or a [showcase] begin … [showcase] end block), and nothing is added.
    // A blank line next to a run may go too: prettier's, where the deletion left two in a row.
    const diff = runShell(`git diff -U0 HEAD -- ${edited.join(' ')}`, dir).split('\n');
    expect(diff.filter((line) => line.startsWith('+') && !line.startsWith('+++'))).toEqual([]);
    const runs: string[][] = [];
    for (const line of diff) {
      if (line.startsWith('@@')) runs.push([]);
      else if (line.startsWith('-') && !line.startsWith('---')) runs.at(-1)!.push(line);
    }
    const marked = runs.map((lines) =>
      lines.filter((line, i) => line.trim() !== '-' || (i > 0 && i < lines.length - 1)),
    );
    const unmarked = marked.filter(
      (lines) => !/\[showcase\]/.test(lines[0]!) || !/\[showcase\]/.test(lines.at(-1)!),
    );
    expect(unmarked).toEqual([]);
    const removed = runs.flat();
    const counts = {
      filesDeleted: deleted.length,
      linesDeleted: deleted.reduce(
        (sum, file) => sum + runShell(`git show HEAD:${file}`, dir).split('\n').length - 1,
        0,
      ),
      filesEdited: edited.length,
      linesRemovedFromEditedFiles: removed.length,
    };
    console.info(`remove the showcase: ${JSON.stringify(counts)}`);
    expect(counts.filesEdited).toBeGreaterThanOrEqual(8);
  });

  it('leaves no code that names the report, its module or its types', () => {
    // The prose of the docs still describes the page (and the docs checks, in any test/docs
    // folder, read this repository's docs, recipes included): only code and configuration count.
    const left = filesMentioning(dir, SHOWCASE_NAMES).filter(
      (file) => !file.endsWith('.md') && !/(^|\/)test\/docs\//.test(file),
    );
    expect(left).toEqual([]);
  });

  it('leaves the files it edited formatted (the recipe’s last step)', () => {
    runShell(
      withCopysPnpm(`pnpm exec prettier --check --ignore-unknown ${edited.join(' ')}`, dir),
      dir,
    );
  });

  it('builds, and the packages it edited typecheck', () => {
    const pnpm = (args: string) => runShell(withCopysPnpm(`pnpm ${args}`, dir), dir, 480_000);
    pnpm('build');
    pnpm("--filter '@wi/azure...' --filter @wi/frontend --filter @wi/backend run typecheck");
    const main = readFileSync(join(dir, 'packages/azure/dist/index.js'), 'utf8');
    expect(main).not.toMatch(/identity-report/);
  }, 600_000);

  // After the build above: the tests' global setup loads @wi/local-azure from its dist/.
  it('passes the unit specs of what it edited: the token cache, the layout, the config', () => {
    const specs = [
      'packages/azure/src/credential',
      'services/frontend/src/web',
      'services/frontend/src/config',
    ];
    const output = runShell(
      `node node_modules/vitest/vitest.mjs run --reporter=dot ${specs.join(' ')}`,
      dir,
      300_000,
    );
    // eslint-disable-next-line no-control-regex -- Vitest colours its summary.
    const summary = output.replace(/\u001b\[[\d;]*m/g, '');
    expect(summary).toMatch(/Tests\s+\d+ passed/);
    expect(summary).not.toMatch(/failed/);
  }, 300_000);
});
