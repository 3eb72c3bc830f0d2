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
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArmObject } from './arm-expression.js';
import { BicepServer } from './bicep-server.js';

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

/** Profile-guided JIT tiering pays off only in long runs: off, a Bicep run takes ~10 % less CPU. */
export const BICEP_ENV = { DOTNET_TieredPGO: '0' };

export async function bicep(args: string[], cwd: string): Promise<BicepRun> {
  const cli = bicepPath;
  if (!cli) throw new Error('No bicep CLI on PATH: run `. ../shared/ci/bootstrap.sh bicep`.');
  const run = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
    execFile(
      cli,
      args,
      { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...BICEP_ENV } },
      (error, _stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ status: error ? (error.code as number) : 0, stderr });
      },
    );
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

/**
 * Compiles every .bicep file (`bicep build`) and every .bicepparam file (`bicep build-params`)
 * under dir in one Bicep process, writing main.bicep's template to outDir/main.json and
 * x.bicepparam's parameters to outDir/x.parameters.json. Returns every finding: each diagnostic
 * of the compiler and of the linter (bicepconfig.json's rules), and each file that did not compile.
 */
export async function checkInfra(dir: string, outDir: string): Promise<string[]> {
  if (!bicepPath) throw new Error('No bicep CLI on PATH: run `. ../shared/ci/bootstrap.sh bicep`.');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.bicep(param)?$/.test(file))
    .sort();
  const server = new BicepServer(bicepPath, BICEP_ENV);
  try {
    const results = await Promise.all(
      files.map(async (file) => {
        const params = file.endsWith('.bicepparam');
        const result = params
          ? await server.compileParams(join(dir, file))
          : await server.compile(join(dir, file));
        if (result.success && result.output !== undefined) {
          const out = join(
            outDir,
            params
              ? file.replace(/\.bicepparam$/, '.parameters.json')
              : file.replace(/\.bicep$/, '.json'),
          );
          mkdirSync(dirname(out), { recursive: true });
          writeFileSync(out, result.output);
        }
        return { file, result };
      }),
    );
    const found = new Set<string>(); // a module's diagnostics come again with each referrer
    for (const { file, result } of results) {
      for (const d of result.diagnostics) {
        found.add(
          `${relative(dir, d.source)}:${d.range.start.line + 1} ${d.level} ${d.code}: ${d.message}`,
        );
      }
      if (!result.success) found.add(`${file}: bicep could not compile it`);
    }
    return [...found];
  } finally {
    await server.close();
  }
}

/**
 * Hash of every input of the build, so a cached build is reused only while nothing changed: the
 * files, the Bicep CLI, and the day (use-recent-api-versions judges an API version by its age).
 */
function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(infraDir, { recursive: true, encoding: 'utf8' }).sort()) {
    if (!/\.(bicep|bicepparam|json)$/.test(file)) continue;
    hash.update(file).update(readFileSync(join(infraDir, file)));
  }
  const cli = statSync(bicepPath ?? infraDir);
  hash.update(`${bicepPath} ${cli.size} ${cli.mtimeMs} ${new Date().toISOString().slice(0, 10)}`);
  return hash.digest('hex').slice(0, 16);
}

export interface CompiledInfra {
  main: ArmObject;
  /** Every compiled file's text, main.json first: what the deployment would send to Azure. */
  texts: Map<string, string>;
}

/**
 * checkInfra over infra/ once per change of its inputs, shared by every test file: the compiled
 * files and the findings (findings.json) in a directory named after the inputs' hash. Test files
 * run in separate processes: the first to get the lock builds, the others wait for it rather than
 * start the same build on a two-core machine.
 */
async function checkedInfra(): Promise<{ dir: string; findings: string[] }> {
  const dir = join(tmpdir(), `wi-infra-checked-${inputsHash()}`);
  const findingsFile = join(dir, 'findings.json');
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 180_000;
  while (!existsSync(findingsFile)) {
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
    const staging = `${dir}.${process.pid}`;
    try {
      mkdirSync(staging, { recursive: true });
      const findings = await checkInfra(infraDir, staging);
      writeFileSync(join(staging, 'findings.json'), JSON.stringify(findings));
      renameSync(staging, dir);
    } finally {
      rmSync(staging, { recursive: true, force: true });
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return { dir, findings: JSON.parse(readFileSync(findingsFile, 'utf8')) as string[] };
}

/** Every finding of checkInfra over infra/ as committed (built once, see checkedInfra). */
export async function infraFindings(): Promise<string[]> {
  return (await checkedInfra()).findings;
}

/** infra/ compiled (once per change of its inputs); throws on any finding. */
export async function compileInfra(): Promise<CompiledInfra> {
  const { dir, findings } = await checkedInfra();
  if (findings.length > 0) throw new Error(`bicep build failed:\n${findings.join('\n')}`);
  const texts = new Map<string, string>();
  for (const file of [
    'main.json',
    ...readdirSync(join(dir, 'modules')).map((f) => `modules/${f}`),
  ]) {
    texts.set(file, readFileSync(join(dir, file), 'utf8'));
  }
  return { main: JSON.parse(texts.get('main.json')!) as ArmObject, texts };
}
