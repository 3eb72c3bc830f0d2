// The README's quickstart works as written on a machine with only Node.js: its commands are the
// ones CI runs (taken from the README by .ci/readme-commands.mjs), they need no pnpm on PATH, and
// the Node versions it names are the ones .nvmrc, engines and the Dockerfile say.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM CI glue without types; its one export is checked here.
import { quickstartCommands } from '../../../.ci/readme-commands.mjs';
import { repoRoot } from '../../../test/docs/support/markdown.js';

const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  packageManager: string;
  engines: { node: string };
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};
const commands = (quickstartCommands as (readme: string) => Record<string, string>)(
  read('README.md'),
);
const pinnedPnpm = pkg.packageManager.replace(/^pnpm@/, '');

describe('the README quickstart', () => {
  it('is `<install> && <dev>` and a test command, all through npx', () => {
    expect(commands.start).toBe(`${commands.install} && ${commands.dev}`);
    expect(commands.install).toMatch(/^npx -y pnpm@\d+ install$/);
    expect(commands.dev).toBe('npx pnpm dev');
    expect(commands.test).toBe('npx pnpm test');
  });

  it('installs the major of pnpm that package.json pins, and pins it as a devDependency too', () => {
    // `npx pnpm` after the install runs node_modules/.bin/pnpm: the pinned one, no prompt.
    expect(commands.install).toContain(`pnpm@${pinnedPnpm.split('.')[0]} `);
    expect(pkg.devDependencies.pnpm).toBe(pinnedPnpm);
  });

  it('is what .ci/run runs: it reads the commands from the README, never a copy', () => {
    const ci = read('.ci/run');
    for (const name of ['install', 'start', 'test']) expect(ci).toContain(`$(readme ${name})`);
    // The comment that names them for a reader of .ci/run says what the README says.
    expect(ci).toContain(`today are \`${commands.start}\` and \`${commands.test}\``);
    expect(ci).not.toMatch(/^\s*(corepack )?pnpm /m);
    expect(ci).not.toMatch(/bootstrap\.sh[^\n]*\bnode\b/);
  });
});

describe('root scripts', () => {
  it('never call pnpm by name (corepack pnpm and npx put no `pnpm` on PATH)', () => {
    const byName = Object.entries(pkg.scripts).filter(([, script]) =>
      /(^|&&|\|\||;)\s*pnpm\s/.test(script),
    );
    expect(byName.map(([name]) => name)).toEqual([]);
  });
});

describe('Node versions', () => {
  const nvmrc = read('.nvmrc').trim();
  const dockerNode = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(read('Dockerfile'))?.[1];

  it('.nvmrc and the Dockerfile default to the same major', () => {
    expect(dockerNode).toBe(nvmrc);
  });

  it('engines allows exactly the majors the README promises: 22.12+, 24 and 26', () => {
    expect(pkg.engines.node).toBe('^22.12.0 || ^24.0.0 || ^26.0.0');
    const readme = read('README.md');
    expect(readme).toContain(`Node ${nvmrc} is the default`);
    expect(readme).toContain('22.12 or later, 24 or 26');
  });

  it('CI runs the quickstart on each of them', () => {
    const ci = read('.ci/run');
    expect(ci).toContain('bash "$newcomer" 24 ');
    expect(ci).toContain('npx pnpm $check');
    expect(ci).toMatch(/^smoke 26 /m);
    expect(ci).toMatch(/^smoke 22$/m);
  });
});
