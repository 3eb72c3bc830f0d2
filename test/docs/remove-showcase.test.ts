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
  selectedPackages,
  typecheckPackages,
  withCopysPnpm,
} from '../support/scratch-copy.js';
import { codeBlocks, repoRoot, shellCommands } from './support/markdown.js';

const page = join(repoRoot, 'docs', 'forking.md');
const recipe = codeBlocks(page).find((block) => block.snippet === 'remove-showcase');

/** What the showcase's code is called: none of it may be left outside the docs' prose. */
const SHOWCASE_NAMES =
  /identity-report|IdentityReport|IdentityModule|TokenRecorder|DeclaredDenials|IdentityDiagnosis|renderIdentityPage|identity\.page|\/identity\/caller|\/api\/identity|IDENTITY_PAGE|identityPage|\[showcase\]/;

// The cases only read the copy, but for the build's dist/, which the specs wait for: they run
// side by side, the CPU-bound ones (tsc, the build, Vitest) each in a process of its own.
describe.concurrent(
  'docs/forking.md: Remove the showcase, followed on a copy of the repository',
  () => {
    let dir: string;
    let deleted: string[];
    let edited: string[];
    let build: Promise<string> | undefined;
    /** `pnpm build` of the copy, once, for the case that checks it and the specs that need it. */
    const built = () => (build ??= runShell(withCopysPnpm('pnpm build', dir), dir, 480_000));

    beforeAll(async () => {
      expect(recipe, 'docs/forking.md has one block marked snippet: remove-showcase').toBeDefined();
      dir = scratchCopy('remove-showcase');
      // The recipe's last step runs prettier from node_modules.
      linkNodeModules(dir);
      for (const { command } of shellCommands(recipe!)) {
        await runShell(withCopysPnpm(command, dir), dir);
      }
      const changed = async (filter: string) =>
        (await runShell(`git diff --name-only --diff-filter=${filter} HEAD`, dir))
          .split('\n')
          .filter(Boolean);
      deleted = await changed('D');
      edited = await changed('M');
    }, 600_000);
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('deletes the showcase’s folders and edits only lines that carried the marker', async () => {
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
      const diff = (await runShell(`git diff -U0 HEAD -- ${edited.join(' ')}`, dir)).split('\n');
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
      const deletedLines = await Promise.all(
        deleted.map(
          async (file) => (await runShell(`git show HEAD:${file}`, dir)).split('\n').length - 1,
        ),
      );
      const counts = {
        filesDeleted: deleted.length,
        linesDeleted: deletedLines.reduce((sum, lines) => sum + lines, 0),
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

    it('leaves the files it edited formatted (the recipe’s last step)', async () => {
      await runShell(
        withCopysPnpm(`pnpm exec prettier --check --ignore-unknown ${edited.join(' ')}`, dir),
        dir,
      );
    });

    it('builds, and the packages it edited typecheck', async () => {
      const touched = "--filter '@wi/azure...' --filter @wi/frontend --filter @wi/backend";
      // The typecheck reads sources only (the `source` condition), so it runs beside the build.
      await Promise.all([
        built(),
        selectedPackages(dir, touched).then((packages) => typecheckPackages(dir, packages)),
      ]);
      const main = readFileSync(join(dir, 'packages/azure/dist/index.js'), 'utf8');
      expect(main).not.toMatch(/identity-report/);
    }, 600_000);

    // After the build above: the tests' global setup loads @wi/local-azure from its dist/.
    it('passes the unit specs of what it edited: the token cache, the layout, the config', async () => {
      await built();
      const specs = [
        'packages/azure/src/credential',
        'services/frontend/src/web',
        'services/frontend/src/config',
      ];
      const output = await runShell(
        `node node_modules/vitest/vitest.mjs run --reporter=dot ${specs.join(' ')}`,
        dir,
        300_000,
      );
      // eslint-disable-next-line no-control-regex -- Vitest colours its summary.
      const summary = output.replace(/\u001b\[[\d;]*m/g, '');
      expect(summary).toMatch(/Tests\s+\d+ passed/);
      expect(summary).not.toMatch(/failed/);
    }, 300_000);
  },
);
