// The scratch copy's process handling and its one-program typecheck, on small fixtures.
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runShell, typecheckPackages } from './scratch-copy.js';

const scratch = mkdtempSync(join(tmpdir(), 'scratch-copy-spec-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runShell', () => {
  it('returns the output, and rejects with the exit code and output of a failure', async () => {
    await expect(runShell('echo out', scratch)).resolves.toBe('out\n');
    await expect(runShell('echo said; echo why >&2; exit 3', scratch)).rejects.toThrow(
      /exit 3\nsaid\n\nwhy/,
    );
  });

  it('on timeout ends what the shell started too, not only the shell', async () => {
    // A grandchild, as `pnpm install` is under `sh -c`: killing `sh` alone leaves it running.
    const pidFile = join(scratch, 'grandchild.pid');
    await expect(runShell(`sleep 60 & echo $! > ${pidFile}; wait`, scratch, 1_000)).rejects.toThrow(
      /timed out after 1000 ms/,
    );
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    await expect.poll(() => alive(grandchild), { timeout: 5_000 }).toBe(false);
  });
});

describe('typecheckPackages', () => {
  /** A workspace of two plain packages, with the repository's base options and TypeScript. */
  function workspace(name: string, sources: Record<string, string>): string {
    const dir = join(scratch, name);
    cpSync(join(repoRoot, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
    symlinkSync(
      join(repoRoot, 'node_modules', 'typescript'),
      join(dir, 'node_modules', 'typescript'),
    );
    symlinkSync(
      join(repoRoot, 'node_modules', '@types', 'node'),
      join(dir, 'node_modules', '@types', 'node'),
    );
    for (const [file, text] of Object.entries(sources)) {
      const packageDir = join(dir, dirname(dirname(file)));
      mkdirSync(join(packageDir, 'src'), { recursive: true });
      writeFileSync(
        join(packageDir, 'package.json'),
        JSON.stringify({
          name: basename(packageDir),
          scripts: { typecheck: 'tsc -p tsconfig.json' },
        }),
      );
      writeFileSync(
        join(packageDir, 'tsconfig.json'),
        JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src/**/*.ts'] }),
      );
      writeFileSync(join(dir, file), text);
    }
    return dir;
  }

  it('passes sound packages, and fails on an error in any of them, naming it', async () => {
    const sound = {
      'packages/a/src/index.ts': "export const a: string = 'a';\n",
      'packages/b/src/index.ts': "import { sep } from 'node:path';\nexport const b = sep;\n",
    };
    const ok = workspace('ok', sound);
    await typecheckPackages(ok, ['packages/a', 'packages/b']);
    const broken = workspace('broken', {
      ...sound,
      'packages/b/src/index.ts': 'export const b: number = "not a number";\n',
    });
    await expect(typecheckPackages(broken, ['packages/a', 'packages/b'])).rejects.toThrow(
      /packages\/b\/src\/index\.ts\(1,14\): error TS2322/,
    );
  }, 60_000);
});
