// The docs-command check: every shell command in README.md and docs/*.md (fenced sh/bash blocks,
// and the README's command table) is either run here, exercised by another test or by CI (named
// below, with the text that proves it), or needs an Azure subscription (listed one by one). A
// command that is none of these fails the first test, so the docs cannot rot unnoticed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PORTS, type LocalCloud } from '@wi/local-azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipKubectlTests } from '../../../test/k8s/support/k8s.js';
import { freePort, startLocalCloud, waitForOk } from '../../../test/support/local-stack.js';
import { type DocCommand, docCommands, repoRoot } from '../../../test/docs/support/markdown.js';

interface Evidence {
  /** A repository file that runs the command (or what it runs)... */
  file: string;
  /** ...shown by this text in it. */
  contains: string;
}

type Entry = { pattern: RegExp } & (
  | { how: 'run here'; test: string }
  | { how: 'exercised in CI'; by: Evidence[]; note?: string }
  | { how: 'needs a subscription'; why: string }
);

const SUBSCRIPTION = 'talks to Azure or to a cluster in Azure';

/** Every command the docs may contain, and how it is known to work. */
const allowlist: Entry[] = [
  // README quickstart
  {
    pattern: /^npx -y pnpm@10 install$/,
    how: 'exercised in CI',
    by: [
      { file: '.ci/run', contains: 'install=$(readme install)' },
      { file: '.ci/readme-commands.mjs', contains: '## Quickstart' },
    ],
    note: 'taken from this README by .ci/run and run with only Node on PATH, on Node 22, 24 and 26',
  },
  { pattern: /^npx pnpm dev$/, how: 'run here', test: 'pnpm dev' },
  {
    pattern: /^npx pnpm test$/,
    how: 'exercised in CI',
    by: [{ file: '.ci/run', contains: 'test_command=$(readme test)' }],
    note: 'on Node 24 (every test) and Node 26 (integration and fidelity)',
  },
  // README: deploy
  { pattern: /^az login$/, how: 'needs a subscription', why: SUBSCRIPTION },
  { pattern: /^azd auth login$/, how: 'needs a subscription', why: SUBSCRIPTION },
  { pattern: /^azd up$/, how: 'needs a subscription', why: SUBSCRIPTION },
  {
    pattern: /^scripts\/deploy-aks\.sh rg-doc-intake swedencentral$/,
    how: 'exercised in CI',
    by: [{ file: 'test/infra/deploy-scripts.test.ts', contains: "'scripts/deploy-aks.sh'" }],
    note: 'against stand-ins for az, kubectl, kubelogin and curl',
  },
  // README: other commands
  {
    pattern: /^pnpm build$/,
    how: 'exercised in CI',
    by: [
      {
        file: 'package.json',
        contains: '"test": "node scripts/pnpm.mjs run build && node scripts/test.mjs"',
      },
      { file: '.ci/run', contains: 'test_command=$(readme test)' },
    ],
  },
  {
    pattern: /^pnpm typecheck$/,
    how: 'exercised in CI',
    by: [{ file: '.ci/run', contains: 'for check in typecheck lint' }],
  },
  {
    pattern: /^pnpm lint$/,
    how: 'exercised in CI',
    by: [{ file: '.ci/run', contains: 'for check in typecheck lint' }],
  },
  { pattern: /^pnpm test test\/integration$/, how: 'run here', test: 'pnpm test <filter>' },
  { pattern: /^pnpm check:wiring$/, how: 'run here', test: 'pnpm check:wiring' },
  // docs/forking.md
  {
    pattern: /^node packages\/identities\/dist\/cli\.js schema$/,
    how: 'run here',
    test: 'identities schema',
  },
  // docs/troubleshooting.md: diagnostics
  {
    pattern: /^kubectl describe pod --namespace doc-intake /,
    how: 'needs a subscription',
    why: SUBSCRIPTION,
  },
  {
    pattern: /^kubectl get pods --namespace doc-intake /,
    how: 'needs a subscription',
    why: SUBSCRIPTION,
  },
  {
    pattern: /^kubectl exec --namespace doc-intake deploy\/backend -- /,
    how: 'needs a subscription',
    why: SUBSCRIPTION,
  },
  {
    pattern: /^kubectl rollout restart deployment --namespace doc-intake$/,
    how: 'needs a subscription',
    why: SUBSCRIPTION,
  },
  {
    pattern: /^az identity federated-credential list /,
    how: 'needs a subscription',
    why: SUBSCRIPTION,
  },
  { pattern: /^az aks show /, how: 'needs a subscription', why: SUBSCRIPTION },
  { pattern: /^az role assignment list /, how: 'needs a subscription', why: SUBSCRIPTION },
  {
    pattern: /^az cosmosdb sql role assignment list /,
    how: 'needs a subscription',
    why: SUBSCRIPTION,
  },
  {
    pattern: /^node -e '.*' < \.local-azure\/tokens\/backend\/azure-identity-token$/,
    how: 'run here',
    test: 'decode the local token',
  },
  // docs/containers.md
  {
    pattern: /^scripts\/docker-build\.sh( (frontend|backend|local-cloud))*$/,
    how: 'exercised in CI',
    by: [{ file: 'test/containers/support.ts', contains: "'scripts/docker-build.sh'" }],
  },
  {
    pattern: /^docker build --build-arg SERVICE=backend -t doc-intake-backend \.$/,
    how: 'exercised in CI',
    by: [
      { file: 'test/containers/support.ts', contains: "'scripts/docker-build.sh'" },
      { file: 'scripts/docker-build.sh', contains: '--build-arg "SERVICE=$target"' },
    ],
    note: 'by scripts/docker-build.sh, with its extra flags',
  },
  {
    pattern: /^pnpm local-azure start --state-dir \S+$/,
    how: 'run here',
    test: 'local-azure start',
  },
  {
    pattern: /^chmod 644 \S+\/tokens\/backend\/azure-identity-token$/,
    how: 'exercised in CI',
    by: [{ file: 'test/containers/support.ts', contains: 'chmod(tokenFile, 0o644)' }],
  },
  {
    pattern: /^docker run --rm --network host --read-only --tmpfs \/tmp .* doc-intake-backend:dev$/,
    how: 'exercised in CI',
    by: [
      { file: 'test/containers/support.ts', contains: ".withNetworkMode('host')" },
      { file: 'test/containers/support.ts', contains: 'target: CONTAINER_PATHS.tokenDir' },
    ],
    note: 'the same container, mounts and environment, started by testcontainers',
  },
  {
    pattern: /^docker compose up$/,
    how: 'exercised in CI',
    by: [{ file: 'test/containers/compose.test.ts', contains: "compose('up'" }],
  },
  {
    pattern: /^docker compose down$/,
    how: 'exercised in CI',
    by: [{ file: 'test/containers/compose.test.ts', contains: "compose('down'" }],
  },
  // docs/forking.md, Remove the showcase (its git rm and its marker deletion)
  {
    pattern:
      /^git (rm -r -q packages\/azure\/src\/identity-report .*|grep -l -z -e '\\\[showcase\\\]' .*)$/,
    how: 'exercised in CI',
    by: [
      {
        file: 'test/docs/remove-showcase.test.ts',
        contains: "block.snippet === 'remove-showcase'",
      },
    ],
    note: 'the block run as it is on a copy of the repository',
  },
  // [keda] begin
  // docs/keda.md, Remove KEDA (its git rm, its marker deletion, its JSON edit, the lockfile)
  {
    pattern:
      /^(git rm -r -q docs\/keda\.md .*|git grep -l -z -e '\\\[keda\\\]' .*|node -e 'const fs = require\("fs"\); .*"infra\/identities\.json".*|pnpm install)$/,
    how: 'exercised in CI',
    by: [{ file: 'test/docs/remove-keda.test.ts', contains: "block.snippet === 'remove-keda'" }],
    note: 'the block run on a copy of the repository, its pnpm install replaced by linking node_modules',
  },
  // [keda] end
  // docs/forking.md, Add a service: the generator, its --sync after the role edit, and pnpm dev
  {
    pattern: /^pnpm (new:service reporter|new:service --sync|dev)$/,
    how: 'exercised in CI',
    by: [
      { file: 'test/docs/new-service.test.ts', contains: "snippet(guide, 'new-service-command')" },
      { file: 'test/docs/new-service.test.ts', contains: "pnpmRun('new:service', '--sync')" },
      { file: 'test/docs/new-service.test.ts', contains: "['scripts/dev.mjs']" },
    ],
    note: 'on a scratch copy of the repository: the generator as written, then pnpm dev starts the new service',
  },
  // README's command table: the generator, and the compose rendering it and --sync call
  {
    pattern: /^pnpm new:service <name>$/,
    how: 'exercised in CI',
    by: [
      { file: 'test/docs/new-service.test.ts', contains: "snippet(guide, 'new-service-command')" },
    ],
    note: 'the same command with a name, on a scratch copy of the repository',
  },
  {
    pattern: /^pnpm render:compose$/,
    how: 'exercised in CI',
    by: [{ file: 'test/containers/compose-render.test.ts', contains: 'run pnpm render:compose' }],
    note: "the script's check mode, which names this command when the file is out of date",
  },
  // The last step of both removal recipes: reformat what the deletions left.
  {
    pattern:
      /^pnpm exec prettier --write --ignore-unknown \$\(git diff --name-only --diff-filter=M\)$/,
    how: 'exercised in CI',
    by: [
      {
        file: 'test/docs/remove-showcase.test.ts',
        contains: "block.snippet === 'remove-showcase'",
      },
      { file: 'test/docs/remove-keda.test.ts', contains: "block.snippet === 'remove-keda'" }, // [keda]
    ],
  },
];

/** `a && b` is two commands, each of which must be known. */
function parts(command: DocCommand): DocCommand[] {
  return command.command.split(/\s+&&\s+/).map((part) => ({ ...command, command: part.trim() }));
}

const commands = docCommands().flatMap(parts);
const where = (c: DocCommand) => `${c.file}:${c.line}`;
const entryOf = (c: DocCommand) => allowlist.filter((entry) => entry.pattern.test(c.command));
/** The exact text of the documented command an entry stands for (the first, if several). */
function documented(test: string): string {
  const entry = allowlist.find((e) => e.how === 'run here' && e.test === test)!;
  const found = commands.find((c) => entry.pattern.test(c.command));
  if (!found) throw new Error(`no documented command for '${test}'`);
  return found.command;
}

describe('every command in the docs', () => {
  it('is run here, exercised in CI, or listed as needing a subscription', () => {
    expect(commands.length).toBeGreaterThan(20);
    const unknown = commands.filter((c) => entryOf(c).length === 0);
    const ambiguous = commands.filter((c) => entryOf(c).length > 1);
    expect(
      unknown.map((c) => `${where(c)}: ${c.command}`),
      'add a test that runs it, name the test that does, or (Azure only) list it as needing a subscription',
    ).toEqual([]);
    expect(ambiguous.map((c) => `${where(c)}: ${c.command}`)).toEqual([]);
    const report = commands.map((c) => {
      const entry = entryOf(c)[0]!;
      const how =
        entry.how === 'run here'
          ? `run here (${entry.test})`
          : entry.how === 'exercised in CI'
            ? `CI: ${entry.by.map((e) => e.file).join(' → ')}${entry.note ? `, ${entry.note}` : ''}`
            : `needs a subscription`;
      return `${where(c).padEnd(28)} ${c.command.slice(0, 60).padEnd(60)} ${how}`;
    });
    console.log(`\n${report.join('\n')}`);
  });

  it('has no allowlist entry that no document uses any more', () => {
    const unused = allowlist.filter(
      (entry) => !commands.some((c) => entry.pattern.test(c.command)),
    );
    expect(unused.map((entry) => String(entry.pattern))).toEqual([]);
  });

  it('that CI runs elsewhere is named with the file, and the text, that runs it', () => {
    const missing = allowlist.flatMap((entry) =>
      entry.how !== 'exercised in CI'
        ? []
        : entry.by
            .filter((e) => !readText(e.file)?.includes(e.contains))
            .map((e) => `${String(entry.pattern)}: ${e.file} does not contain ${e.contains}`),
    );
    expect(missing).toEqual([]);
  });
});

function readText(file: string): string | undefined {
  try {
    return readFileSync(join(repoRoot, file), 'utf8');
  } catch {
    return undefined;
  }
}

const packageScripts = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

/** Runs a documented command as written, with bash, in `cwd`. */
function sh(command: string, cwd = repoRoot): string {
  return execFileSync('bash', ['-c', command], { cwd, encoding: 'utf8', timeout: 60_000 });
}

describe('the cheap commands, run', () => {
  it.skipIf(skipKubectlTests)(
    'pnpm check:wiring: every link holds (the build step aside, which `pnpm test` has done)',
    () => {
      expect(documented('pnpm check:wiring')).toBe('pnpm check:wiring');
      expect(packageScripts['check:wiring']).toBe(
        "node scripts/pnpm.mjs --filter '@wi/wiring...' build && node scripts/check-wiring.mjs",
      );
      const output = sh('node scripts/check-wiring.mjs');
      expect(output).toContain('every link holds');
    },
  );

  it('node packages/identities/dist/cli.js schema: prints infra/identities.schema.json', () => {
    const printed = JSON.parse(sh(documented('identities schema'))) as unknown;
    const committed = JSON.parse(
      readFileSync(join(repoRoot, 'infra', 'identities.schema.json'), 'utf8'),
    ) as unknown;
    expect(printed).toEqual(committed);
  });

  it('pnpm test <filter>: the argument reaches Vitest as a file filter', () => {
    const command = documented('pnpm test <filter>');
    expect(packageScripts.test).toBe('node scripts/pnpm.mjs run build && node scripts/test.mjs');
    expect(readFileSync(join(repoRoot, 'scripts', 'test.mjs'), 'utf8')).toContain(
      '...process.argv.slice(2)',
    );
    // What scripts/test.mjs hands Vitest, listed instead of run.
    const filters = command.replace(/^pnpm test /, '').split(' ');
    const files = sh(`node node_modules/vitest/vitest.mjs list --filesOnly ${filters.join(' ')}`)
      .split('\n')
      .filter(Boolean);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(filters.some((f) => file.startsWith(f))).toBe(true);
  });

  describe('decoding the local token file', () => {
    let cloud: LocalCloud;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'doc-token-'));
      cloud = await startLocalCloud({ stateDir: join(dir, '.local-azure') });
    });
    afterAll(async () => {
      await cloud?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('shows the claims Entra compares with the federated credential', () => {
      const output = sh(documented('decode the local token'), dir);
      expect(output).toContain("sub: 'system:serviceaccount:doc-intake:backend'");
      expect(output).toContain("aud: [ 'api://AzureADTokenExchange' ]");
      expect(output).toContain(`iss: '${cloud.sts.issuerUrl}'`);
    });
  });
});

// `pnpm dev` and `local-azure start` run the local cloud on its fixed ports (DEFAULT_PORTS); the
// services get free ports here (FRONTEND_PORT, BACKEND_PORT).
const fixedPorts = Object.values(DEFAULT_PORTS);
const busy = (
  await Promise.all(fixedPorts.map(async (port) => ((await isFree(port)) ? [] : [port])))
).flat();
const skipFixedPorts = busy.length > 0 && process.env.CI !== 'true';
if (skipFixedPorts) {
  console.warn(
    `\n!! docs tests of \`pnpm dev\` and \`local-azure start\` SKIPPED: port(s) ${busy.join(', ')} ` +
      'in use (a `pnpm dev` running?). In CI this is a failure.\n',
  );
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Spawns a long-running command, waits for a line, and can stop it as Ctrl-C does. */
function start(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 60_000) {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready in ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    started,
    output: () => output,
    /** Ctrl-C, then the exit code. */
    async interrupt(): Promise<number | null> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

describe.skipIf(skipFixedPorts)('the long-running commands, started and stopped', () => {
  it('npx pnpm dev: the local cloud and both services come up ready, and Ctrl-C stops them all', async () => {
    expect(documented('pnpm dev')).toBe('npx pnpm dev');
    expect(packageScripts.dev).toBe('node scripts/pnpm.mjs run build && node scripts/dev.mjs');
    const frontendPort = await freePort();
    const backendPort = await freePort();
    const dev = start(
      ['scripts/dev.mjs'],
      { ...process.env, FRONTEND_PORT: String(frontendPort), BACKEND_PORT: String(backendPort) },
      /Ready in [\d.]+ s/,
    );
    let code: number | null;
    try {
      await dev.started;
      expect(dev.output()).toContain(`http://localhost:${frontendPort}`);
      await waitForOk(`http://127.0.0.1:${frontendPort}/healthz/ready`);
      await waitForOk(`http://127.0.0.1:${backendPort}/healthz/ready`);
      const page = await fetch(`http://127.0.0.1:${frontendPort}/`);
      expect(page.status).toBe(200);
    } finally {
      code = await dev.interrupt();
    }
    expect(code, dev.output()).toBe(0);
    // Nothing it started is left listening.
    expect(await isFree(frontendPort)).toBe(true);
    expect(await isFree(backendPort)).toBe(true);
    for (const port of fixedPorts) expect(await isFree(port), `port ${port}`).toBe(true);
  }, 90_000);

  it('pnpm local-azure start: writes each service’s env file, and Ctrl-C stops it', async () => {
    expect(documented('local-azure start')).toMatch(/^pnpm local-azure start --state-dir /);
    expect(packageScripts['local-azure']).toBe(
      'node scripts/pnpm.mjs --filter @wi/local-azure build && node packages/local-azure/dist/cli.js',
    );
    const stateDir = mkdtempSync(join(tmpdir(), 'doc-local-azure-'));
    const cloud = start(
      ['packages/local-azure/dist/cli.js', 'start', '--state-dir', stateDir],
      process.env,
      /local cloud ready/,
    );
    let code: number | null;
    try {
      await cloud.started;
      const env = readFileSync(join(stateDir, 'env', 'backend.env'), 'utf8');
      for (const name of [
        'AZURE_CLIENT_ID',
        'AZURE_TENANT_ID',
        'AZURE_FEDERATED_TOKEN_FILE',
        'AZURE_AUTHORITY_HOST',
      ]) {
        expect(env).toMatch(new RegExp(`^${name}=".+"$`, 'm'));
      }
      // cli.ts installs its Ctrl-C handler just after printing "ready": give it that moment.
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      code = await cloud.interrupt();
      rmSync(stateDir, { recursive: true, force: true });
    }
    expect(code, cloud.output()).toBe(0);
  }, 60_000);
});
