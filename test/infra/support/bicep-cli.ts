import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArmObject } from './arm-expression.js';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const infraDir = join(repoRoot, 'infra');

/** The Bicep CLI on PATH (CI installs it with `bootstrap.sh bicep`), or undefined. */
export const bicepPath = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'bicep'))
  .find((candidate) => existsSync(candidate));

/**
 * Without a Bicep CLI the infrastructure tests skip, and say so; in CI a missing CLI is a failure,
 * never a skip.
 */
export const skipBicepTests = !bicepPath && process.env.CI !== 'true';
if (skipBicepTests) {
  console.warn(
    '\n!! infra tests SKIPPED: no `bicep` on PATH. Install it (. ../shared/ci/bootstrap.sh bicep, or ' +
      'https://aka.ms/bicep-install) to check infra/*.bicep. In CI this is a failure.\n',
  );
}

export interface Diagnostic {
  file: string;
  line: number;
  level: string;
  code: string;
  message: string;
}

export interface BicepRun {
  status: number | null;
  diagnostics: Diagnostic[];
  /** stderr lines that are not diagnostics (crashes, usage errors): also findings. */
  otherOutput: string[];
}

export async function bicep(args: string[], cwd: string): Promise<BicepRun> {
  const cli = bicepPath;
  if (!cli) throw new Error('No bicep CLI on PATH: run `. ../shared/ci/bootstrap.sh bicep`.');
  const run = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
    execFile(cli, args, { cwd, encoding: 'utf8', timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ status: error ? (error.code as number) : 0, stderr });
    });
  });
  const diagnostics: Diagnostic[] = [];
  const otherOutput: string[] = [];
  const seen = new Set<string>();
  for (const line of run.stderr.split('\n').map((l) => l.trim())) {
    if (!line || seen.has(line)) continue; // bicep repeats a module's diagnostics per referrer
    seen.add(line);
    const match = /^(.*)\((\d+),\d+\) : (Error|Warning|Info) ([\w-]+): (.*)$/.exec(line);
    if (match) {
      diagnostics.push({
        file: relative(cwd, match[1]!),
        line: Number(match[2]),
        level: match[3]!,
        code: match[4]!,
        message: match[5]!,
      });
    } else otherOutput.push(line);
  }
  return { status: run.status, diagnostics, otherOutput };
}

function findings(runs: BicepRun[]): string[] {
  return runs.flatMap((run) => [
    ...run.diagnostics.map((d) => `${d.file}:${d.line} ${d.level} ${d.code}: ${d.message}`),
    ...run.otherOutput,
    ...(run.status === 0 ? [] : [`bicep exited with ${run.status}`]),
  ]);
}

/** `bicep build` of every .bicep file and `build-params` of every .bicepparam file into outDir. */
function build(dir: string, outDir: string): Promise<BicepRun>[] {
  return [
    bicep(['build', '--pattern', '**/*.bicep', '--outdir', outDir], dir),
    ...bicepparamFiles(dir).map((file) =>
      bicep(
        [
          'build-params',
          file,
          '--outfile',
          join(outDir, file.replace(/\.bicepparam$/, '.parameters.json')),
        ],
        dir,
      ),
    ),
  ];
}

/**
 * Every finding of `bicep lint` and `bicep build` / `build-params` over one infra directory (run
 * side by side: each is mostly the CLI starting up).
 */
export async function checkInfra(dir: string, outDir: string): Promise<string[]> {
  return findings(
    await Promise.all([
      bicep(['lint', '--pattern', '**/*.bicep'], dir),
      bicep(['lint', '--pattern', '**/*.bicepparam'], dir),
      ...build(dir, outDir),
    ]),
  );
}

function bicepparamFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.bicepparam'),
  );
}

/** Hash of every input of the build, so a cached build is reused only while nothing changed. */
function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(infraDir, { recursive: true, encoding: 'utf8' }).sort()) {
    if (!/\.(bicep|bicepparam|json)$/.test(file)) continue;
    hash.update(file).update(readFileSync(join(infraDir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

export interface CompiledInfra {
  main: ArmObject;
  /** Every compiled file's text, main.json first: what the deployment would send to Azure. */
  texts: Map<string, string>;
}

/**
 * Compiles infra/main.bicep once per change of its inputs. Test files run in separate processes:
 * the first to get the lock builds into a directory named after the inputs' hash, the others wait
 * for it rather than start the same build on a two-core machine.
 */
export async function compileInfra(): Promise<CompiledInfra> {
  const dir = join(tmpdir(), `wi-infra-arm-${inputsHash()}`);
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 180_000;
  while (!existsSync(join(dir, 'main.json'))) {
    try {
      mkdirSync(lock); // atomic: one process wins
    } catch {
      // A lock older than any build is left by a killed run.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${lock}; remove it if stale`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      const staging = `${dir}.${process.pid}`;
      mkdirSync(staging, { recursive: true });
      const problems = findings(await Promise.all(build(infraDir, staging)));
      if (problems.length > 0) {
        rmSync(staging, { recursive: true, force: true });
        throw new Error(`bicep build failed:\n${problems.join('\n')}`);
      }
      renameSync(staging, dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  const texts = new Map<string, string>();
  for (const file of [
    'main.json',
    ...readdirSync(join(dir, 'modules')).map((f) => `modules/${f}`),
  ]) {
    texts.set(file, readFileSync(join(dir, file), 'utf8'));
  }
  return { main: JSON.parse(texts.get('main.json')!) as ArmObject, texts };
}
