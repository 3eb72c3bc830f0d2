import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/bicep-cli.js';

// scripts/deploy-aks.sh run against stand-ins for az, kubectl, kubelogin and curl (support/
// fake-cli.sh), in a scratch copy of the files it reads: what it calls, in which order, and what
// it leaves out. What the real services answer is for a real subscription (infra/README.md).

const copied = [
  'scripts/deploy-common.sh',
  'scripts/deploy-aks.sh',
  'scripts/deploy-app.sh',
  'scripts/write-aks-env.sh',
  'infra/identities.json',
  'infra/main.bicepparam',
  'k8s/overlays/aks/azure.env.example',
];

interface Sandbox {
  root: string;
  state: string;
  log: string;
  env: NodeJS.ProcessEnv;
}

function sandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'wi-deploy-'));
  for (const file of copied) cpSync(join(repoRoot, file), join(root, file), { recursive: true });
  writeFileSync(join(root, 'Dockerfile'), 'FROM scratch\n');
  const bin = join(root, '.fake-bin');
  mkdirSync(bin);
  const fake = join(repoRoot, 'test/infra/support/fake-cli.sh');
  chmodSync(fake, 0o755);
  for (const tool of ['az', 'kubectl', 'kubelogin', 'curl']) symlinkSync(fake, join(bin, tool));
  const state = join(root, '.fake-state');
  mkdirSync(state);
  const log = join(root, 'calls.log');
  return {
    root,
    state,
    log,
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: root,
      FAKE_LOG: log,
      FAKE_STATE: state,
      RETRY_SECONDS: '0',
      IMAGE_TAG: 'test-tag',
    },
  };
}

function deploy(box: Sandbox) {
  writeFileSync(box.log, '');
  const run = spawnSync(
    'bash',
    [join(box.root, 'scripts/deploy-aks.sh'), 'rg-test', 'swedencentral'],
    {
      env: box.env,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { ...run, calls: readFileSync(box.log, 'utf8').trim().split('\n') };
}

const indexOf = (calls: string[], pattern: RegExp) => calls.findIndex((call) => pattern.test(call));

describe.skipIf(process.platform === 'win32')('scripts/deploy-aks.sh (with stand-in CLIs)', () => {
  let box: Sandbox;
  let first: ReturnType<typeof deploy>;
  beforeAll(() => {
    box = sandbox();
    first = deploy(box);
  });
  afterAll(() => rmSync(box.root, { recursive: true, force: true }));

  it('provisions, builds, writes the env file from the outputs, applies, waits for the credentials, restarts', () => {
    expect(first.status, first.stderr).toBe(0);
    const order = [
      /^az group create --name rg-test --location swedencentral/,
      /^az deployment group create --resource-group rg-test --name main --parameters .*infra\/main\.bicepparam/,
      /^az acr build --registry acrtest --image doc-intake-frontend:test-tag --build-arg SERVICE=frontend/,
      /^az acr build --registry acrtest --image doc-intake-backend:test-tag --build-arg SERVICE=backend/,
      /^az deployment group show --resource-group rg-test --name main --query properties\.outputs --output json/,
      /^az aks get-credentials --resource-group rg-test --name aks-doc-intake/,
      /^kubelogin convert-kubeconfig --login azurecli/,
      /^kubectl apply -k .*k8s\/overlays\/aks/,
      /^kubectl create token frontend --namespace doc-intake --audience api:\/\/AzureADTokenExchange/,
      /^curl .*client_id=11111111-aaaa-4bbb-8ccc-000000000001/,
      /^kubectl create token backend --namespace doc-intake/,
      /^kubectl rollout restart deployment --namespace doc-intake/,
      /^kubectl rollout status deployment.apps\/frontend/,
    ];
    const positions = order.map((pattern) => indexOf(first.calls, pattern));
    expect(
      positions.every((p) => p >= 0),
      `calls:\n${first.calls.join('\n')}`,
    ).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('retries an exchange Entra ID refuses (AADSTS700213) before restarting, and says so', () => {
    const exchanges = first.calls.filter((call) => call.startsWith('curl '));
    expect(exchanges.length).toBe(3); // frontend refused once, then frontend and backend accepted
    expect(first.stderr).toContain('frontend: HTTP 401 AADSTS700213');
    expect(first.stderr).toContain('backend: token exchange works');
  });

  it('prints each command it runs, and never a token', () => {
    expect(first.stderr).toMatch(/\$ az deployment group create/);
    expect(first.stderr + first.stdout).not.toMatch(/service-account-token|secret-access-token/);
    // The assertion goes to curl from a file, so it is not on any command line either.
    expect(first.calls.join('\n')).not.toContain('service-account-token');
    expect(first.calls.find((call) => call.startsWith('curl '))).toMatch(/client_assertion@\//);
  });

  it('writes the overlay env file with every output and the image tag', () => {
    const env = readFileSync(join(box.root, 'k8s/overlays/aks/azure.env'), 'utf8');
    expect(env).toContain('frontendClientId=11111111-aaaa-4bbb-8ccc-000000000001');
    expect(env).toContain('imageTag=test-tag');
    expect(env).toContain('acrLoginServer=acrtest.azurecr.io');
  });

  it('writes the Key Vault secrets the first time only, so running it again does not rotate keys', () => {
    expect(first.stderr).toContain('write Key Vault secrets: true');
    const again = deploy(box);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('write Key Vault secrets: false');
    expect(
      indexOf(
        again.calls,
        /^az resource show .*--parent vaults\/kv-test .*--name backend-signing-key/,
      ),
    ).toBeGreaterThanOrEqual(0);
    expect(existsSync(join(box.state, 'deployed'))).toBe(true);
  });
});
