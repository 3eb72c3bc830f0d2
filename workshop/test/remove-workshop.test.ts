// workshop/ and bench/, deleted: a fork that drops this project's own tooling keeps a whole
// template. On a copy of the repository without both (the working tree is never written to):
// `pnpm typecheck` and `pnpm build` pass, and no template file refers to a removed path. Template
// here means every file but the Markdown that describes the workshop, `.ci/` (CI glue, workshop
// too) and ignore files (a pattern for a missing path matches nothing). One kind of reference is
// allowed, and counted: a citation of a recorded measurement, `bench/results/<name>.md`, which
// says where a number in a comment came from.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  linkNodeModules,
  repositoryFiles,
  runShell,
  scratchCopy,
  selectedPackages,
  typecheckPackages,
  withCopysPnpm,
} from '../../test/support/scratch-copy.js';

const REMOVED = ['workshop', 'bench'];
/** A path under a removed folder, or the folder's name as a string (e.g. a path.join argument). */
const REFERENCE =
  /(?:(?<![\w./-])|(?<=\.\/))(?:workshop|bench)\/[\w./-]*|['"](?:workshop|bench)['"]/g;
const CITATION = /^bench\/results\/[\w.-]+\.md$/;
const NOT_TEMPLATE = (file: string) =>
  file.endsWith('.md') || file.startsWith('.ci/') || /(^|\/)\.\w+ignore$/.test(file);

/** The root's typecheck script, which typecheckPackages does in one tsc where it can. */
const TYPECHECK_EVERY_PACKAGE = 'node scripts/pnpm.mjs -r run typecheck';

const pnpm = (args: string, cwd: string) =>
  runShell(withCopysPnpm(`pnpm ${args}`, cwd), cwd, 540_000);

/** `pnpm typecheck` of the copy: every package's own typecheck, in one program where they allow. */
async function typecheck(cwd: string): Promise<void> {
  const root = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  if (root.scripts.typecheck !== TYPECHECK_EVERY_PACKAGE) await pnpm('typecheck', cwd);
  else await typecheckPackages(cwd, await selectedPackages(cwd, '-r'));
}

describe('the template without workshop/ and bench/', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchCopy('remove-workshop');
    for (const path of REMOVED) rmSync(join(dir, path), { recursive: true, force: true });
    linkNodeModules(dir);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refers to neither, but for citations of recorded measurements', () => {
    const references: string[] = [];
    const citations: string[] = [];
    for (const file of repositoryFiles(dir).filter((name) => !NOT_TEMPLATE(name))) {
      const text = readFileSync(join(dir, file), 'utf8');
      text.split('\n').forEach((line, index) => {
        for (const [match] of line.matchAll(REFERENCE)) {
          const path = match.replace(/\.+$/, ''); // a sentence's full stop
          (CITATION.test(path) ? citations : references).push(`${file}:${index + 1}: ${path}`);
        }
      });
    }
    expect(references).toEqual([]);
    // A handful of comments cite a benchmark's result; more would be a dependency in disguise.
    expect(citations.length).toBeLessThan(10);
  });

  // The typecheck reads sources only (the `source` condition), so it runs beside the build.
  it('typechecks and builds', async () => {
    await Promise.all([typecheck(dir), pnpm('build', dir)]);
  }, 600_000);
});
