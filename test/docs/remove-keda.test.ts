// docs/keda.md, "Remove KEDA", done: the recipe's block, read from the page, runs on a copy of
// the repository (the working tree is never written to), and what is left is a whole template:
// nothing mentions KEDA any more, `bicep build` of infra/main.bicep reports nothing, every
// remaining overlay renders, the wiring check holds, and the packages the recipe edited typecheck.
// One deviation: the recipe's `pnpm install` is not run in the copy. Re-resolving the lockfile
// fetches the registry metadata of every package (a fresh HOME has none: in CI's newcomer
// environment it hung past 20 minutes), and it would write node_modules. The copy links the real
// node_modules instead, the test checks the dependency left packages/wiring/package.json, and
// pnpm-lock.yaml, which that install rewrites, is the one file allowed to still name KEDA.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OVERLAYS, type OverlayDefinition, type OverlayName, renderOverlay } from '@wi/wiring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bicep, skipBicepTests } from '../infra/support/bicep-cli.js';
import { requireKubectl, skipKubectlTests } from '../k8s/support/k8s.js';
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

const page = join(repoRoot, 'docs', 'keda.md');
const recipe = codeBlocks(page).find((block) => block.snippet === 'remove-keda');

// The cases only read the copy, but for the build's dist/ (read only by the wiring check after
// it): they run side by side, the CPU-bound ones (bicep, tsc) each in a process of its own.
describe.concurrent('docs/keda.md: Remove KEDA, followed on a copy of the repository', () => {
  let dir: string;

  beforeAll(async () => {
    expect(recipe, 'docs/keda.md has one block marked snippet: remove-keda').toBeDefined();
    dir = scratchCopy('remove-keda');
    for (const { command } of shellCommands(recipe!)) {
      if (command === 'pnpm install') {
        linkNodeModules(dir);
      } else await runShell(withCopysPnpm(command, dir), dir);
    }
  }, 600_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no file that mentions KEDA, by name or in its text', async () => {
    const lines = await runShell('git grep -n -i -I --untracked -e keda || true', dir);
    expect(
      filesMentioning(dir, /keda/i).filter((file) => file !== 'pnpm-lock.yaml'),
      lines,
    ).toEqual([]);
    const wiring = JSON.parse(readFileSync(join(dir, 'packages/wiring/package.json'), 'utf8'));
    expect(JSON.stringify(wiring)).not.toMatch(/keda/i);
    // The copy is the repository otherwise: its services are still there.
    expect(existsSync(join(dir, 'services', 'backend', 'src'))).toBe(true);
  });

  it('leaves the overlays that are not KEDA’s, and they all render', () => {
    const overlays = readdirSync(join(dir, 'k8s', 'overlays')).sort();
    expect(overlays).toEqual(Object.keys(OVERLAYS).sort());
    if (skipKubectlTests) return;
    const kubectl = requireKubectl();
    const k8sDir = join(dir, 'k8s');
    for (const overlay of Object.keys(OVERLAYS) as OverlayName[]) {
      const { example }: OverlayDefinition = OVERLAYS[overlay];
      const envFile = example ? join(k8sDir, 'overlays', overlay, example) : undefined;
      const rendered = renderOverlay(kubectl, { k8sDir, overlay, ...(envFile ? { envFile } : {}) });
      expect(rendered.objects.length, overlay).toBeGreaterThan(0);
      expect(rendered.objects.map((object) => object.apiVersion).join(' ')).not.toMatch(/keda/i);
    }
  });

  it.skipIf(skipBicepTests)(
    'builds infra/main.bicep with no diagnostic (as test/infra/bicep-cli.test.ts holds the real one)',
    async () => {
      const build = await bicep(['build', 'main.bicep', '--stdout'], join(dir, 'infra'));
      const findings = build.diagnostics.map((d) => `${d.line} ${d.level} ${d.code}: ${d.message}`);
      expect([...findings, ...build.otherOutput]).toEqual([]);
      expect(build.status).toBe(0);
    },
    120_000,
  );

  it('builds and typechecks the packages the recipe edited, and the wiring check holds', async () => {
    const touched = "--filter '@wi/wiring...' --filter @wi/local-azure";
    // The typecheck reads sources only (the `source` condition), so it runs beside the build.
    await Promise.all([
      runShell(withCopysPnpm(`pnpm ${touched} run build`, dir), dir),
      selectedPackages(dir, touched).then((packages) => typecheckPackages(dir, packages)),
    ]);
    // A real azure.env of whoever runs this would take the example's place: not in a copy.
    expect(existsSync(join(dir, 'k8s', 'overlays', 'aks', 'azure.env'))).toBe(false);
    if (skipKubectlTests) return;
    const output = execFileSync(process.execPath, [join(dir, 'scripts', 'check-wiring.mjs')], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(output).toMatch(/every link holds/);
    expect(output).not.toMatch(/keda/i);
  }, 300_000);

  it('leaves the files it edited formatted (the recipe’s last step)', async () => {
    const edited = (await runShell('git diff --name-only --diff-filter=M', dir))
      .split('\n')
      .filter(Boolean);
    expect(edited.length).toBeGreaterThan(5);
    await runShell(
      withCopysPnpm(`pnpm exec prettier --check --ignore-unknown ${edited.join(' ')}`, dir),
      dir,
    );
  });
});

// The copy must be made from files git knows; a stray build output must not decide the result.
it('copies no dist/ or node_modules/ into the scratch copy', () => {
  const probe = scratchCopy('remove-keda-probe');
  try {
    expect(existsSync(join(probe, 'packages', 'wiring', 'dist'))).toBe(false);
    expect(existsSync(join(probe, 'node_modules'))).toBe(false);
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
});
