// A copy of the repository to run a recipe on (remove a feature, delete a folder) without
// touching the working tree: the files git would commit, in a fresh git repository of their
// own, with node_modules linked rather than installed.
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
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

/**
 * Runs a shell command in the copy; its stdout, or an error with its exit code and output. The
 * shell leads a process group of its own, so a timeout ends everything it started (a recipe's
 * `pnpm install` and the workers under it), not only `sh`.
 */
export function runShell(command: string, cwd: string, timeout = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeout);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close', not 'exit': the output is whole once every process holding the pipes has ended.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) return resolve(stdout);
      const status = timedOut ? `timed out after ${timeout} ms` : `exit ${code ?? signal}`;
      reject(new Error(`${command}\n${status}\n${stdout}\n${stderr}`));
    });
  });
}

/** SIGKILL to the whole group: a command past its time gets no say in how it ends. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (error) {
    // The group is already gone.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
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

/**
 * The workspace packages a pnpm selection (`-r`, or `--filter …` options) takes, as directories
 * of the copy; the root is not one (`pnpm -r run` leaves it out too).
 */
export async function selectedPackages(dir: string, selection: string): Promise<string[]> {
  const listed = await runShell(withCopysPnpm(`pnpm ${selection} ls --depth -1 --json`, dir), dir);
  return (JSON.parse(listed) as { path: string }[])
    .map((workspace) => relative(dir, workspace.path))
    .filter((path) => path !== '');
}

/** A package whose typecheck is this: its sources under the base options, nothing of its own. */
const PLAIN_TYPECHECK = 'tsc -p tsconfig.json';
const PLAIN_TSCONFIG = JSON.stringify({
  extends: '../../tsconfig.base.json',
  include: ['src/**/*.ts'],
});
/** What a source may add to the global scope or to another module: one program would share it. */
const AUGMENTS = /\bdeclare\s+(global|module)\b/;

/**
 * Whether `tsc -p tsconfig.json` in this package checks exactly what the same files check in one
 * program with the others': the base options alone, the root's TypeScript and @types, and no
 * declaration that reaches past its own module (isolatedModules already makes every file one).
 */
function typecheckSharesOneProgram(dir: string, packageDir: string): boolean {
  const root = join(dir, packageDir);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  if (manifest.scripts?.typecheck !== PLAIN_TYPECHECK) return false;
  try {
    if (
      JSON.stringify(JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'))) !==
      PLAIN_TSCONFIG
    )
      return false;
  } catch {
    return false; // a tsconfig with comments, or none: not the plain one
  }
  for (const own of ['typescript', '@types']) {
    if (existsSync(join(root, 'node_modules', own))) return false;
  }
  if (!existsSync(join(root, 'src'))) return false; // its own tsc then says what it lacks
  const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' });
  return !sources.some(
    (file) =>
      file.endsWith('.d.ts') ||
      (file.endsWith('.ts') && AUGMENTS.test(readFileSync(join(root, 'src', file), 'utf8'))),
  );
}

/**
 * What `pnpm --filter … run typecheck` checks, in one `tsc` process where it can: one `tsc -p`
 * per package parses @types/node, the Azure SDK's declarations and every dependency's sources
 * (the `source` condition) again, so one program over all of them does the same checks with
 * each file parsed and checked once. A package that does anything else runs its own script.
 */
export async function typecheckPackages(dir: string, packageDirs: string[]): Promise<void> {
  const withScript = packageDirs.filter(
    (packageDir) =>
      (
        JSON.parse(readFileSync(join(dir, packageDir, 'package.json'), 'utf8')) as {
          scripts?: Record<string, string>;
        }
      ).scripts?.typecheck !== undefined,
  );
  const together = withScript.filter((packageDir) => typecheckSharesOneProgram(dir, packageDir));
  const alone = withScript.filter((packageDir) => !together.includes(packageDir));
  const config = join(dir, 'node_modules', '.typecheck-together', 'tsconfig.json');
  mkdirSync(dirname(config), { recursive: true });
  writeFileSync(
    config,
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      include: together.map((packageDir) => `../../${packageDir}/src/**/*.ts`),
    }),
  );
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  await Promise.all([
    together.length > 0 ? runShell(`node ${tsc} -p ${config}`, dir, 480_000) : undefined,
    ...alone.map((packageDir) =>
      runShell(withCopysPnpm(`pnpm --dir ${packageDir} run typecheck`, dir), dir, 480_000),
    ),
  ]);
}
