// A copy of the repository to run a recipe on (remove a feature, delete a folder) without
// touching the working tree: the files git would commit, in a fresh git repository of their
// own, with node_modules linked rather than installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

/** The files git would commit now: tracked ones and new ones it does not ignore. */
export function repositoryFiles(root = repoRoot): string[] {
  return git(root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard')
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(root, file)));
}

/** Copies those files into a new temporary directory, committed there as one commit. */
export function scratchCopy(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  for (const file of repositoryFiles()) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file), { verbatimSymlinks: true });
  }
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(
    dir,
    '-c',
    'user.name=scratch',
    '-c',
    'user.email=scratch@example.invalid',
    'commit',
    '-qm',
    'copy',
  );
  return dir;
}

/**
 * Makes the copy's node_modules resolve as the real ones do, with the workspace's own packages
 * (`@wi/*`) resolving to the copy's: every third-party entry is a symlink to the real one, each
 * package's node_modules is copied as it is (pnpm's relative links then point into the copy).
 * Nothing here writes to the real node_modules.
 */
export function linkNodeModules(dir: string): void {
  const real = join(repoRoot, 'node_modules');
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  for (const entry of readdirSync(real)) {
    const target = join(dir, 'node_modules', entry);
    if (existsSync(target)) continue;
    if (entry === '@wi')
      cpSync(join(real, entry), target, { recursive: true, verbatimSymlinks: true });
    else symlinkSync(join(real, entry), target);
  }
  for (const workspace of ['packages', 'services']) {
    if (!existsSync(join(dir, workspace))) continue;
    for (const name of readdirSync(join(dir, workspace))) {
      const modules = join(repoRoot, workspace, name, 'node_modules');
      const copy = join(dir, workspace, name, 'node_modules');
      if (existsSync(modules) && !existsSync(copy)) {
        cpSync(modules, copy, { recursive: true, verbatimSymlinks: true });
      }
    }
  }
}

/** Runs a shell command in the copy; its stdout, or an error with its exit code and output. */
export function runShell(command: string, cwd: string, timeout = 300_000): string {
  const result = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', timeout });
  if (result.status !== 0) {
    throw new Error(`${command}\nexit ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** `pnpm …` as a recipe says it, run with the copy's pinned pnpm (its scripts/pnpm.mjs). */
export const withCopysPnpm = (command: string, dir: string) =>
  command.replace(/^pnpm /, `node ${join(dir, 'scripts', 'pnpm.mjs')} `);

/** Files of the copy (as git sees them) whose path or text matches. */
export function filesMentioning(dir: string, pattern: RegExp): string[] {
  let found: string[] = [];
  try {
    found = git(dir, 'grep', '-l', '-i', '-I', '-E', '--untracked', '-e', pattern.source)
      .split('\n')
      .filter(Boolean);
  } catch (error) {
    // git grep exits 1 when nothing matches.
    if ((error as { status?: number }).status !== 1) throw error;
  }
  const named = repositoryFiles(dir).filter((file) => pattern.test(file));
  return [...new Set([...found, ...named])].sort();
}
