import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LOCAL_TENANT_ID, localClientId } from '@wi/local-azure';
import { GUID, clientIdOutput, parseEnvFile, parseManifests, readEnvFile } from '@wi/wiring';
import { afterAll, describe, expect, it } from 'vitest';
import { aksExampleEnv, identities, k8sDir, localEnv, repoRoot } from './support/k8s.js';

const example = readEnvFile(aksExampleEnv);
const local = readEnvFile(localEnv);

/** The Bicep outputs that k8s/components/azure-outputs maps into the manifests. */
function replacementSources(): string[] {
  const [component] = parseManifests(
    readFileSync(join(k8sDir, 'components', 'azure-outputs', 'kustomization.yaml'), 'utf8'),
  );
  const { replacements } = component as unknown as {
    replacements: { source: { name: string; fieldPath: string } }[];
  };
  return replacements.map(({ source }) => {
    expect(source.name).toBe('azure-outputs');
    return source.fieldPath.replace(/^data\./, '');
  });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('the env files: Bicep outputs in, nothing typed by hand', () => {
  it('the example and local.env hold exactly the outputs the replacements use', () => {
    const sources = [...new Set(replacementSources())].sort();
    expect(Object.keys(example).sort()).toEqual(sources);
    expect(Object.keys(local).sort()).toEqual(sources);
    for (const identity of identities.identities) {
      expect(sources).toContain(clientIdOutput(identity.service));
    }
  });

  const bicep = join(repoRoot, 'infra', 'main.bicep');
  it.skipIf(!existsSync(bicep))('every key but imageTag is an output of infra/main.bicep', () => {
    const outputs = [...readFileSync(bicep, 'utf8').matchAll(/^output\s+(\w+)\s/gm)].map(
      (match) => match[1],
    );
    const { imageTag: _, ...fromBicep } = example;
    expect(outputs).toEqual(expect.arrayContaining(Object.keys(fromBicep)));
  });

  it('the example is obviously fake, and tells the identities apart', () => {
    const ids = [
      example.tenantId,
      ...identities.identities.map((i) => example[clientIdOutput(i.service)]),
    ];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]+fa4e$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const key of [
      'keyVaultUrl',
      'storageBlobEndpoint',
      'serviceBusFullyQualifiedNamespace',
      'cosmosEndpoint',
      'acrLoginServer',
    ]) {
      expect(example[key]).toMatch(/fake-?example/);
    }
  });

  it('local.env holds the local cloud’s own tenant and client ids', () => {
    expect(local.tenantId).toBe(LOCAL_TENANT_ID);
    for (const identity of identities.identities) {
      expect(local[clientIdOutput(identity.service)], identity.service).toBe(
        localClientId(identity),
      );
    }
  });

  it('the names the app uses are the ones its role assignments are scoped to', () => {
    const scopes = identities.identities.flatMap((identity) =>
      identity.roleAssignments.map((r) => r.scope),
    );
    const scoped = (resource: string, field: string) =>
      new Set(
        scopes
          .filter((s) => s.resource === resource)
          .map((s) => (s as Record<string, string>)[field]),
      );
    for (const env of [example, local]) {
      expect(scoped('storage', 'container')).toEqual(new Set([env.uploadsContainer]));
      expect(scoped('serviceBus', 'queue')).toEqual(new Set([env.documentsQueue]));
      expect(scoped('cosmos', 'database')).toEqual(new Set([env.cosmosDatabase]));
    }
  });

  it('no YAML under k8s/ contains a client id, tenant id or Azure host typed by hand', () => {
    const files = yamlFiles(k8sDir);
    expect(files.length).toBeGreaterThan(10);
    const guid = new RegExp(GUID.source.slice(1, -1), 'i');
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(guid);
      expect(text, file).not.toMatch(
        /\.(vault\.azure\.net|windows\.net|azurecr\.io|documents\.azure\.com)/,
      );
    }
  });

  it('parses the way kustomize does: comments skipped, value verbatim, duplicates refused', () => {
    expect(parseEnvFile('# c\n\nA=x=y\nB="q"\n')).toEqual({ A: 'x=y', B: '"q"' });
    expect(() => parseEnvFile('A=1\nA=2', 'f')).toThrow('f:2: duplicate key A');
    expect(() => parseEnvFile('nonsense', 'f')).toThrow('f:1: expected KEY=VALUE');
  });
});

describe('scripts/write-aks-env.sh', () => {
  const work = mkdtempSync(join(tmpdir(), 'write-aks-env-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Runs the script against a stand-in `az` that prints these deployment outputs. */
  function run(outputs: Record<string, string>) {
    const bin = join(work, 'bin');
    const out = join(work, 'azure.env');
    rmSync(out, { force: true });
    writeFileSync(
      join(work, 'outputs.json'),
      JSON.stringify(
        Object.fromEntries(
          Object.entries(outputs).map(([k, value]) => [k, { type: 'String', value }]),
        ),
      ),
    );
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, 'az'),
      `#!/bin/sh\necho "$@" > "${work}/az-args"\ncat "${work}/outputs.json"\n`,
    );
    chmodSync(join(bin, 'az'), 0o755);
    const result = spawnSync('bash', [join(repoRoot, 'scripts', 'write-aks-env.sh'), 'rg-intake'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}`,
        AZURE_ENV_FILE: out,
        IMAGE_TAG: 'abc1234',
      },
    });
    return { ...result, out, args: () => readFileSync(join(work, 'az-args'), 'utf8').trim() };
  }

  it('writes every output the overlay needs, under its Bicep name, and the image tag', () => {
    const { imageTag: _, ...outputs } = example;
    // ARM may return an output name in another case than Bicep declared it.
    const result = run({ ...outputs, KeyVaultUrl: outputs.keyVaultUrl!, unrelated: 'x' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.args()).toBe(
      'deployment group show --resource-group rg-intake --name main --query properties.outputs --output json',
    );
    expect(readEnvFile(result.out)).toEqual({ ...example, imageTag: 'abc1234' });
  });

  it('refuses a deployment that lacks an output, naming it', () => {
    const { imageTag: _, backendClientId: __, cosmosEndpoint: ___, ...outputs } = example;
    const result = run(outputs);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('lacks the output(s): backendClientId, cosmosEndpoint');
    expect(() => readFileSync(result.out)).toThrow();
  });
});
