import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/local-stack.js';

/** The .NET SDK on PATH (or DOTNET_PATH), if any. */
function findDotnet(): string | undefined {
  const candidate = process.env.DOTNET_PATH ?? 'dotnet';
  const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && /^\d+\./.test(probe.stdout.trim()) ? candidate : undefined;
}

export const dotnet = findDotnet();

/**
 * The .NET conformance suite skips where there is no .NET SDK, and says so in the summary; in
 * CI a missing SDK is a failure, never a skip.
 */
export const skipDotnetTests = !dotnet && process.env.CI !== 'true';

export const projectDir = join(repoRoot, 'test/conformance/dotnet');
const assembly = join(
  repoRoot,
  'node_modules/.cache/conformance-dotnet/bin/Release/net10.0/Conformance.dll',
);

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: projectDir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const quiet = { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' };

/**
 * Restores (once: NuGet's cache and the git-ignored .build/ folder keep it) and builds the
 * project; an unchanged project builds incrementally in seconds.
 */
export async function buildConformance(): Promise<void> {
  if (!dotnet) throw new Error('No .NET SDK found: install dotnet-sdk-10.0 or set DOTNET_PATH.');
  const result = await run(
    dotnet,
    ['build', '-c', 'Release', '-nologo', '-v', 'q'],
    quiet,
    300_000,
  );
  if (result.code !== 0 || !existsSync(assembly)) {
    throw new Error(`dotnet build failed:\n${result.stdout}\n${result.stderr}`);
  }
}

export interface DotnetCheck {
  check: string;
  expect: string;
  outcome: 'allowed' | 'denied';
  code: string | null;
  ok: boolean;
  detail: string | null;
}

/**
 * Runs the checks as one service, with only the variables the local cloud writes for it (no
 * NODE_OPTIONS preload, no NODE_EXTRA_CA_CERTS: those are Node's), plus PATH and HOME.
 */
export async function runConformance(
  role: 'frontend' | 'backend',
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ checks: DotnetCheck[]; stderr: string }> {
  const { NODE_OPTIONS: _preload, NODE_EXTRA_CA_CERTS: _node, ...cloudEnv } = env;
  const result = await run(
    dotnet!,
    [assembly, role, ...args],
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DOTNET_CLI_TELEMETRY_OPTOUT: '1',
      ...cloudEnv,
    },
    180_000,
  );
  const checks = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{"check"'))
    .map((line) => JSON.parse(line) as DotnetCheck);
  return { checks, stderr: result.stderr };
}
