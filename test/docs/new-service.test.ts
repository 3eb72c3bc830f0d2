// docs/forking.md, "Add a service", done in a scratch copy of the repository: `pnpm new:service
// reporter`, then only the guide's role edit in infra/identities.json (and `--sync`). Then
//   - `pnpm dev` starts the reporter under its own identity, and its Identity report shows its
//     probes, allowed, with tokens issued to its own client id;
//   - `pnpm check:wiring` holds for it in every overlay (and fails for it before `--sync`);
//   - `bicep build` of the copy's infra/ creates its identity, federated credential and roles.
// The commands and the edit come from the guide itself, so the guide and this test cannot drift.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IdentityProbe, IdentityReport } from '@wi/contracts'; // [showcase]
import {
  type ServiceIdentity,
  identitiesWith,
  localClientId,
  parseIdentities,
} from '@wi/identities';
import { ensureLocalCa } from '@wi/local-azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArmObject, show } from '../infra/support/arm-expression.js';
import { created, dryRun, runtimeReference } from '../infra/support/arm-deployment.js';
import { bicep, skipBicepTests } from '../infra/support/bicep-cli.js';
import {
  expectedScope,
  federatedCredentialProblems,
  identityResource,
  resourceTypes,
  roleAssignmentProblems,
} from '../infra/support/identity-checks.js';
import { everythingOn, testTarget } from '../infra/support/infra-deployment.js';
import { skipKubectlTests } from '../k8s/support/k8s.js';
import { freePort, waitForOk } from '../support/local-stack.js';
import { repositoryFiles } from '../support/scratch-copy.js';
import { repoRoot, snippet } from './support/markdown.js';

const guide = join(repoRoot, 'docs', 'forking.md');
const command = snippet(guide, 'new-service-command').trim();
const roleEdit = JSON.parse(snippet(guide, 'reporter-roles')) as Pick<
  ServiceIdentity,
  'roleAssignments' | 'uses'
>;
const documentedEntry = JSON.parse(snippet(guide, 'reporter-identity')) as ServiceIdentity;
const name = /^pnpm new:service ([a-z0-9-]+)$/.exec(command)?.[1];
const pnpm = join(repoRoot, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');

/** test/k8s files that check every service of the declaration: the new one must pass them too. */
const K8S_TESTS_PER_SERVICE = [
  'env-files.test.ts',
  'render.test.ts',
  'pod-security.test.ts',
  'wiring.test.ts',
];

const scratch = mkdtempSync(join(tmpdir(), 'new-service-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The files git would commit, copied as they are in the working tree. */
function copyRepository(): void {
  for (const file of repositoryFiles()) {
    mkdirSync(dirname(join(scratch, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(scratch, file), { verbatimSymlinks: true });
  }
}

/**
 * The installed dependencies, reused: every node_modules entry as it is (pnpm's links are relative,
 * so the workspace's own packages resolve to the copy's), the store (.pnpm) linked, never written.
 */
function linkDependencies(): void {
  const copy = (dir: string) => {
    const from = join(repoRoot, dir, 'node_modules');
    if (!existsSync(from)) return;
    mkdirSync(join(scratch, dir, 'node_modules'), { recursive: true });
    for (const entry of readdirSync(from)) {
      const target = join(scratch, dir, 'node_modules', entry);
      if (entry === '.pnpm') symlinkSync(join(from, entry), target);
      else cpSync(join(from, entry), target, { recursive: true, verbatimSymlinks: true });
    }
  };
  copy('.');
  for (const group of ['packages', 'services']) {
    for (const dir of readdirSync(join(scratch, group))) copy(join(group, dir));
  }
}

type Ran = { code: number | null; output: string };

function run(args: string[], env: NodeJS.ProcessEnv = {}): Ran {
  const result = spawnSync(process.execPath, args, {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** `run`, without holding the worker: the cases below run side by side. */
function runConcurrently(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: scratch, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output: `${stdout}${stderr}` }));
  });
}

/** A root script of the copy, through the pinned pnpm (`pnpm <script> <args>`). */
const pnpmRun = (script: string, ...args: string[]) => run([pnpm, 'run', script, ...args]);

/**
 * `pnpm check:wiring` after --sync, once. It rebuilds @wi/identities' and @wi/wiring's dist/,
 * which the generator, the services and the copy's own tests load: those cases start after it,
 * so none reads a file while the build rewrites it.
 */
let wiringAfterSync: Promise<Ran> | undefined;
const checkWiring = () => (wiringAfterSync ??= runConcurrently([pnpm, 'run', 'check:wiring']));
const distSettled = async () => {
  if (!skipKubectlTests) await checkWiring();
};

const declarationFile = () => join(scratch, 'infra', 'identities.json');

describe.concurrent('pnpm new:service, then only a role edit in the declaration', () => {
  let generated: Ran;
  let wiringBeforeSync: Ran;

  beforeAll(async () => {
    expect(name, `docs/forking.md: ${command}`).toBeDefined();
    copyRepository();
    linkDependencies();
    const built = run([pnpm, '-r', 'run', 'build']);
    expect(built.code, built.output).toBe(0);

    // The generator, as the guide writes it. --no-install: the copy reuses the repository's
    // store and must not write to it; the new package gets the links pnpm would make.
    generated = pnpmRun('new:service', name!, '--no-install');
    expect(generated.code, generated.output).toBe(0);
    cpSync(
      join(scratch, 'services', 'backend', 'node_modules'),
      join(scratch, 'services', name!, 'node_modules'),
      { recursive: true, verbatimSymlinks: true },
    );

    // The role edit: the guide's roles and names, and its new secret declared.
    const json = JSON.parse(readFileSync(declarationFile(), 'utf8')) as {
      identities: ServiceIdentity[];
      resources: { keyVault: { secrets: string[] } };
    };
    const entry = json.identities.find((identity) => identity.service === name)!;
    Object.assign(entry, roleEdit);
    for (const assignment of roleEdit.roleAssignments) {
      const { scope } = assignment;
      if (scope.resource === 'keyVault' && !json.resources.keyVault.secrets.includes(scope.secret))
        json.resources.keyVault.secrets.push(scope.secret);
    }
    writeFileSync(declarationFile(), `${JSON.stringify(json, null, 2)}\n`);

    wiringBeforeSync = skipKubectlTests ? generated : pnpmRun('check:wiring');
    const synced = pnpmRun('new:service', '--sync');
    expect(synced.code, synced.output).toBe(0);
    const service = run([pnpm, '--filter', `@wi/${name}`, 'run', 'build']);
    expect(service.code, service.output).toBe(0);
    // The local CA of the copy, made once here: the copy's test run and pnpm dev, side by side,
    // would each make one in the same folder at the same time.
    await ensureLocalCa(join(scratch, '.local-azure'));
  }, 600_000);

  it('refuses a hostile or taken name before writing anything', async () => {
    await distSettled();
    const hostile = ['../evil', 'Reporter', 'a--b', 'backend', 'local-cloud', 'x'.repeat(31)];
    const newService = (arg: string) =>
      runConcurrently(['scripts/new-service.mjs', arg, '--no-install']);
    const [refusals, again] = await Promise.all([
      Promise.all(hostile.map(async (bad) => ({ bad, refused: await newService(bad) }))),
      newService(name!),
    ]);
    for (const { bad, refused } of refusals) {
      expect(refused.code, bad).toBe(2);
      expect(refused.output).toMatch(/^new:service: /);
    }
    expect(again.output).toContain(`'${name}' is already a service of infra/identities.json`);
    expect(existsSync(join(scratch, 'services', 'evil'))).toBe(false);
    // Past Vitest's 30 s default: it starts after check:wiring, which it may wait on for 15 s.
  }, 120_000);

  it('writes the declaration entry the guide shows, prettier-clean, and a valid file', async () => {
    const file = parseIdentities(JSON.parse(readFileSync(declarationFile(), 'utf8')));
    const entry = file.identities.find((identity) => identity.service === name)!;
    expect(entry).toEqual(documentedEntry);
    const written = generated.output
      .split('\n')
      .filter((line) => line.startsWith('wrote '))
      .map((line) => line.slice('wrote '.length))
      .filter((path) => !/\.(env|example|bicep)$/.test(path));
    expect(written).toContain('infra/identities.json');
    const check = await runConcurrently([
      join(repoRoot, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
      '--check',
      ...written.filter((path) => path !== 'infra/identities.json'),
    ]);
    expect(check.code, check.output).toBe(0);
  });

  it.skipIf(skipKubectlTests)(
    'pnpm check:wiring holds for it in every overlay, and named its names before --sync',
    async () => {
      expect(wiringBeforeSync.code).toBe(1);
      expect(wiringBeforeSync.output).toMatch(
        new RegExp(
          `✗ Deployment ${name} sets the names its uses declares[^\\n]*\\n\\s+found: [^\\n]*is not set`,
        ),
      );
      const wiring = await checkWiring();
      expect(wiring.code, wiring.output).toBe(0);
      const blocks = wiring.output
        .split(/\n(?=k8s\/overlays\/)/)
        .filter((b) => b.startsWith('k8s/'));
      expect(blocks.length).toBeGreaterThanOrEqual(2);
      for (const block of blocks) {
        const mine = block.slice(block.indexOf(`\n  ${name}\n`));
        expect(mine, block).toMatch(
          new RegExp(
            `✓ Deployment ${name} sets the names its uses declares: ${Object.keys(roleEdit.uses!).join(', ')}`,
          ),
        );
        expect(mine).toMatch(new RegExp(`✓ ServiceAccount doc-intake/${name} is rendered`));
      }
      expect(wiring.output).not.toContain('✗');
    },
    // Its build and check run beside the other cases' processes on a shared CPU.
    120_000,
  );

  it.skipIf(skipKubectlTests)(
    "the repository's Kubernetes tests and the new service's own spec pass with it, no test edited",
    async () => {
      await distSettled();
      // A test run of its own in the copy (not this one's workers: their variables stay out).
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')),
      );
      const result = await runConcurrently(
        [
          join(scratch, 'node_modules', 'vitest', 'vitest.mjs'),
          'run',
          // The ones that iterate the declaration's services (the rest name frontend and backend).
          ...K8S_TESTS_PER_SERVICE.map((file) => `test/k8s/${file}`),
          `services/${name}`,
        ],
        env,
      );
      const { output } = result;
      expect(result.code, output.slice(-6000)).toBe(0);
      expect(output).toMatch(new RegExp(`services/${name}/src/config/${name}-config\\.spec\\.ts`));
      expect(output).toMatch(/Tests\s+.*\d+ passed/);
    },
    300_000,
  );

  it('pnpm dev starts it under its own identity, and its Identity report shows its probes', async () => {
    await distSettled();
    const portVariable = `${name!.toUpperCase().replaceAll('-', '_')}_PORT`;
    const ports = {
      FRONTEND_PORT: String(await freePort()),
      BACKEND_PORT: String(await freePort()),
      [portVariable]: String(await freePort()),
    };
    // LOG_LEVEL=debug: pnpm dev prints the local cloud's events, each token exchange among them.
    const dev: ChildProcess = spawn(process.execPath, ['scripts/dev.mjs'], {
      cwd: scratch,
      env: { ...process.env, ...ports, LOCAL_AZURE_FREE_PORTS: 'true', LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    dev.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    dev.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => dev.once('exit', resolve));
    const clientId = localClientId({ managedIdentityName: `id-${name}` });
    const subject = `system:serviceaccount:doc-intake:${name}`;
    try {
      const url = `http://127.0.0.1:${ports[portVariable]}`;
      // Ready means its readiness probed each name it uses, with its own tokens.
      await waitForOk(`${url}/healthz/ready`, undefined, 150_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${output}`);
      });
      expect(output).toMatch(new RegExp(`starting [^\\n]*\\b${name}\\b`));
      const exchanges = [...output.matchAll(/^local-azure (\{"event":"token-exchange".*\})$/gm)]
        .map(
          (match) =>
            JSON.parse(match[1]!) as { outcome: string; clientId: string; subject: string },
        )
        .filter((exchange) => exchange.subject === subject);
      expect(exchanges.length, output).toBeGreaterThan(0);
      for (const exchange of exchanges) {
        expect(exchange).toMatchObject({ outcome: 'success', clientId });
      }
      // [showcase] begin
      const response = await fetch(`${url}/identity`);
      expect(response.status).toBe(200);
      const report = (await response.json()) as IdentityReport;
      expect(report.service).toBe(name);
      expect(report.workloadIdentity.clientId).toBe(clientId);
      expect(report.workloadIdentity.serviceAccountToken?.sub).toBe(subject);
      // One allowed probe per name it uses, by exactly the role the edit gave it; and a denied
      // read of every other declared name (from the declaration), each refused by the data plane.
      const allowed = Object.values(roleEdit.uses!).map((used) =>
        used.resource === 'keyVault'
          ? `read secret ${used.secret}`
          : used.resource === 'storage'
            ? `list blobs in ${used.container}`
            : `? ${used.resource}`,
      );
      const outcomes = report.probes.map((probe: IdentityProbe) => ({
        action: probe.action,
        expected: probe.expected,
        outcome: probe.outcome,
      }));
      expect(
        outcomes
          .filter((p) => p.expected === 'allowed')
          .map((p) => p.action)
          .sort(),
      ).toEqual(allowed.sort());
      expect(outcomes.map((p) => p.action)).toContain('read secret backend-signing-key');
      for (const probe of outcomes) expect(probe.outcome, probe.action).toBe(probe.expected);
      // The tokens it shows were issued to its own client id.
      expect(report.tokens.length).toBeGreaterThan(0);
      for (const token of report.tokens) {
        expect(token.claims?.appid ?? token.claims?.azp, token.scope).toBe(clientId);
      }
      // [showcase] end
    } finally {
      if (dev.exitCode === null) dev.kill('SIGINT');
    }
    expect(await exited, output).toBe(0);
  }, 300_000);

  it.skipIf(skipBicepTests)(
    'bicep build of the copy creates its identity, federated credential and role assignments',
    async () => {
      const infra = join(scratch, 'infra');
      const run = await bicep(['build', 'main.bicep', '--outdir', join(scratch, 'out')], infra);
      expect([
        ...run.diagnostics.map((d) => `${d.file}:${d.line} ${d.code}: ${d.message}`),
        ...run.otherOutput,
      ]).toEqual([]);
      expect(run.status).toBe(0);
      const template = JSON.parse(
        readFileSync(join(scratch, 'out', 'main.json'), 'utf8'),
      ) as ArmObject;
      const result = dryRun(template, everythingOn, { target: testTarget() });
      const file = parseIdentities(JSON.parse(readFileSync(declarationFile(), 'utf8')));
      const mine = (problem: string) => problem.startsWith(`${name}`);
      expect(roleAssignmentProblems(result, file).filter(mine)).toEqual([]);
      expect(federatedCredentialProblems(result, file).filter(mine)).toEqual([]);
      const identity = identitiesWith(file).identities.find((i) => i.service === name)!;
      const uami = identityResource(result, identity);
      expect(uami.name).toBe(`id-${name}`);
      expect(created(result, resourceTypes.federatedCredential).map((r) => r.name)).toContain(
        `id-${name}/fic-${name}`,
      );
      const assignments = created(result, resourceTypes.roleAssignment).filter(
        (r) =>
          show(r.properties.principalId ?? null) === show(runtimeReference(uami.id, 'principalId')),
      );
      expect(assignments.map((r) => r.scope).sort()).toEqual(
        roleEdit.roleAssignments.map((r) => expectedScope(result, r.scope)).sort(),
      );
      // Its client id reaches the AKS env file through workloadClientIds (scripts/write-aks-env.sh).
      expect(result.outputs.workloadClientIds).toBeDefined();
    },
    240_000,
  );
});
