import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInfra, infraDir, infraFindings, skipBicepTests } from './support/bicep-cli.js';

const scratchDirs: string[] = [];
const scratch = () => {
  scratchDirs.push(mkdtempSync(join(tmpdir(), 'wi-infra-check-')));
  return scratchDirs[scratchDirs.length - 1]!;
};
afterAll(() => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

// One Bicep process compiles every file (support/bicep-server.ts): its diagnostics are the
// compiler's and the linter's, what `bicep build` and `bicep lint` print.
describe.skipIf(skipBicepTests)('bicep build and bicep lint over infra/', () => {
  it('build every .bicep and .bicepparam file with zero errors and zero warnings', async () => {
    // The check the infra tests compile infra/ with, done once per change of infra/ and shared.
    expect(await infraFindings()).toEqual([]);
  }, 180_000); // waits for another test file's build, on a shared 2-core machine

  it('fail on a broken file: a linter warning, a type error, a bad parameter value', async () => {
    const copy = scratch();
    cpSync(infraDir, copy, { recursive: true });
    writeFileSync(
      join(copy, 'modules', 'broken.bicep'),
      "param unused string\n\noutput count int = 'three'\n",
    );
    writeFileSync(
      join(copy, 'broken.bicepparam'),
      "using 'main.bicep'\n\nparam environmentName = 'x'\nparam systemNodeCount = 'two'\n",
    );
    const findings = (await checkInfra(copy, scratch())).join('\n');
    expect(findings).toMatch(/modules\/broken\.bicep:1 Warning no-unused-params/);
    expect(findings).toMatch(/modules\/broken\.bicep:3 Error BCP\d+/);
    expect(findings).toMatch(/broken\.bicepparam:4 Error BCP\d+/);
  }, 180_000);
});

describe('the linter configuration (infra/bicepconfig.json)', () => {
  const text = readFileSync(join(infraDir, 'bicepconfig.json'), 'utf8');
  // bicepconfig.json is JSON with comments; the comments say why a rule is off.
  const config = JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as {
    analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
  };

  it('turns the core analyzers on, with every rule at warning or error unless a comment says why', () => {
    expect(config.analyzers.core.enabled).toBe(true);
    const lines = text.split('\n');
    const unexplained = Object.entries(config.analyzers.core.rules)
      .filter(([, rule]) => rule.level === 'off')
      .map(([name]) => name)
      .filter((name) => {
        const at = lines.findIndex((line) => line.includes(`"${name}"`));
        return !/^\s*\/\//.test(lines[at - 1] ?? '');
      });
    expect(unexplained).toEqual([]);
  });

  it('includes the rules that are off by default but matter here', () => {
    const rules = config.analyzers.core.rules;
    for (const name of [
      'use-recent-api-versions',
      'use-user-defined-types',
      'what-if-short-circuiting',
      'use-secure-value-for-secure-inputs',
      'no-hardcoded-location',
    ]) {
      expect(rules[name]?.level, name).toMatch(/^(warning|error)$/);
    }
  });
});
