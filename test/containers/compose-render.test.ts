// docker-compose.yml is rendered from the declaration (scripts/render-compose.mjs): the committed
// file is exactly what the script renders, and a service added to the declaration gets its block,
// its token volume and its port without anyone editing the file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IdentitiesFile, loadIdentities, localClientId } from '@wi/identities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composePath, renderCompose } from '../../scripts/render-compose.mjs';
import { repoRoot } from '../support/local-stack.js';
import { withReporter } from '../support/reporter-identity.js';

interface ComposeFile {
  services: Record<
    string,
    { image: string; environment?: Record<string, string>; volumes?: string[]; ports?: string[] }
  >;
  volumes: Record<string, unknown>;
}

const script = join(repoRoot, 'scripts', 'render-compose.mjs');
const declarationPath = join(repoRoot, 'infra', 'identities.json');

describe('docker-compose.yml is rendered from the declaration', () => {
  let file: IdentitiesFile;
  const work = mkdtempSync(join(tmpdir(), 'wi-compose-render-'));
  beforeAll(async () => {
    file = await loadIdentities(declarationPath);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the committed file is exactly what scripts/render-compose.mjs renders (run `pnpm render:compose`)', async () => {
    expect(readFileSync(composePath(), 'utf8')).toBe(await renderCompose(file));
  });

  it('--check fails on a file that differs, naming it, and passes on the rendered one', async () => {
    const out = join(work, 'docker-compose.yml');
    const check = () =>
      execFileSync(process.execPath, [script, '--check', '--out', out], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    writeFileSync(out, `${await renderCompose(file)}# edited by hand\n`);
    expect(check).toThrow(/docker-compose\.yml is out of date: run pnpm render:compose/);
    writeFileSync(out, await renderCompose(file));
    expect(check()).toBe('');
  });

  it('gives a service added to the declaration its block, token volume, port and names', async () => {
    // A fourth identity, handed the name of the container it reads.
    const wider = withReporter(file, {
      REPORTS_CONTAINER: { resource: 'storage', container: file.resources.storage.containers[0]! },
    });
    const declaration = join(work, 'identities.json');
    const out = join(work, 'rendered.yml');
    writeFileSync(declaration, JSON.stringify(wider, null, 2));
    execFileSync(process.execPath, [script, '--file', declaration, '--out', out]);
    const rendered = parse(readFileSync(out, 'utf8'), { merge: true }) as ComposeFile;
    const reporter = wider.identities.find((identity) => identity.service === 'reporter')!;
    const running = wider.identities.filter((identity) => identity.feature === undefined);

    expect(Object.keys(rendered.services).sort()).toEqual(
      ['local-cloud', ...running.map((identity) => identity.service)].sort(),
    );
    expect(rendered.services.reporter).toMatchObject({
      image: '${REPORTER_IMAGE:-doc-intake-reporter:dev}',
      volumes: [
        'reporter-token:/var/run/secrets/azure/tokens:ro',
        'local-azure-public:/etc/local-azure:ro',
      ],
    });
    expect(rendered.services.reporter!.environment).toMatchObject({
      AZURE_CLIENT_ID: localClientId(reporter),
      AZURE_TENANT_ID: expect.any(String),
      REPORTS_CONTAINER: file.resources.storage.containers[0],
      PORT: String(3000 + running.indexOf(reporter)),
    });
    // It neither exposes an API nor calls one.
    expect(Object.keys(rendered.services.reporter!.environment!)).not.toContain('API_AUDIENCE');
    expect(rendered.services['local-cloud']!.volumes).toContain(
      'reporter-token:/var/lib/local-azure/tokens/reporter',
    );
    expect(rendered.services['local-cloud']!.ports).toContain(
      `\${BIND_ADDRESS:-127.0.0.1}:\${REPORTER_PORT:-${3000 + running.indexOf(reporter)}}:${3000 + running.indexOf(reporter)}`,
    );
    expect(Object.keys(rendered.volumes)).toContain('reporter-token');
    // An identity of an optional feature (a cluster add-on's operator) is no container of this app.
    for (const identity of wider.identities.filter((i) => i.feature !== undefined)) {
      expect(Object.keys(rendered.services)).not.toContain(identity.service);
    }
  });
});
