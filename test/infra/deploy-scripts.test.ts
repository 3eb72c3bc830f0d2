import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
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
import { loadIdentities } from '@wi/identities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concurrencyLimit } from '../support/concurrency-limit.js';
import { withReporter } from '../support/reporter-identity.js';
import { repoRoot } from './support/bicep-cli.js';

// scripts/deploy-aks.sh run against stand-ins for az, kubectl, kubelogin and curl (support/
// fake-cli.sh), in a scratch copy of the files it reads: what it calls, in which order, and what
// it leaves out (and what an optional feature adds). What the real services answer is for a real
// subscription (infra/README.md).

const copied = [
  'scripts/deploy-common.sh',
  'scripts/deploy-aks.sh',
  'scripts/deploy-app.sh',
  'scripts/write-aks-env.sh',
  'scripts/azd-preprovision.sh',
  'infra/identities.json',
  'infra/main.bicepparam',
  'k8s/overlays/aks/azure.env.example',
  'k8s/overlays/aks-keda/keda.env.example', // [keda]
];

interface Sandbox {
  root: string;
  state: string;
  log: string;
  env: NodeJS.ProcessEnv;
}

const sandboxes: string[] = [];
afterAll(() => sandboxes.forEach((root) => rmSync(root, { recursive: true, force: true })));

// Node's compile cache for the scripts' many `node` calls (the declaration's CLI loads zod each
// time): the same programs, about a fifth less CPU each. Node checks each entry against its source.
const nodeCompileCache = join(tmpdir(), 'wi-deploy-scripts-node-cache');

/** The sandbox whose files are under root. */
function sandboxAt(root: string): Sandbox {
  sandboxes.push(root);
  const state = join(root, '.fake-state');
  const log = join(root, 'calls.log');
  return {
    root,
    state,
    log,
    env: {
      PATH: `${join(root, '.fake-bin')}:${process.env.PATH}`,
      HOME: root,
      FAKE_LOG: log,
      FAKE_STATE: state,
      RETRY_SECONDS: '0',
      IMAGE_TAG: 'test-tag',
      NODE_COMPILE_CACHE: nodeCompileCache,
    },
  };
}

function sandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'wi-deploy-'));
  for (const file of copied) cpSync(join(repoRoot, file), join(root, file), { recursive: true });
  writeFileSync(join(root, 'Dockerfile'), 'FROM scratch\n');
  const bin = join(root, '.fake-bin');
  mkdirSync(bin);
  const fake = join(repoRoot, 'test/infra/support/fake-cli.sh');
  chmodSync(fake, 0o755);
  for (const tool of ['az', 'azd', 'kubectl', 'kubelogin', 'curl']) {
    symlinkSync(fake, join(bin, tool));
  }
  // The scripts read the declaration through its loader, never by parsing the JSON themselves.
  symlinkSync(join(repoRoot, 'packages'), join(root, 'packages'));
  mkdirSync(join(root, '.fake-state'));
  return sandboxAt(root);
}

/**
 * A copy of a sandbox, its stand-in "Azure" and cluster included: the cases that run the script
 * again each start from the same existing deployment, and so can run side by side.
 */
function copyOf(box: Sandbox): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'wi-deploy-'));
  cpSync(box.root, root, { recursive: true, verbatimSymlinks: true });
  return sandboxAt(root);
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
}

/** At most two scripts at a time: each is a chain of short processes, CPU-bound on two cores. */
const inSlot = concurrencyLimit(2);

function spawnScript(command: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<Omit<Run, 'calls'>>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function deploy(
  box: Sandbox,
  env: NodeJS.ProcessEnv = {},
  script = 'scripts/deploy-aks.sh',
): Promise<Run> {
  return inSlot(async () => {
    writeFileSync(box.log, '');
    const run = await spawnScript('bash', [join(box.root, script), 'rg-test', 'swedencentral'], {
      ...box.env,
      ...env,
    });
    return { ...run, calls: readFileSync(box.log, 'utf8').trim().split('\n') };
  });
}

const indexOf = (calls: string[], pattern: RegExp) => calls.findIndex((call) => pattern.test(call));

/** Every pattern is called, in this order. */
function expectInOrder(calls: string[], order: RegExp[]) {
  const positions = order.map((pattern) => indexOf(calls, pattern));
  expect(
    positions.every((p) => p >= 0),
    `calls:\n${calls.join('\n')}`,
  ).toBe(true);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
}

/** The digest the stand-in registry gives an image: sha256 of its name (support/fake-cli.sh). */
const digestOf = (image: string) => `sha256:${createHash('sha256').update(image).digest('hex')}`;

const KEDA_CLIENT_ID = '33333333-aaaa-4bbb-8ccc-000000000003'; // [keda]

// The groups run side by side, and so do the cases of each: a case that runs a script again runs
// it in a copy of its group's sandbox (copyOf), and deploy() lets two scripts run at a time.
describe.skipIf(process.platform === 'win32')(
  'scripts/deploy-aks.sh (with stand-in CLIs)',
  { concurrent: true },
  () => {
    let box: Sandbox;
    let first: Run;
    beforeAll(async () => {
      box = sandbox();
      first = await deploy(box);
    }, 180_000);

    it('provisions, builds, writes the env file from the outputs, applies, waits for the credentials, restarts', () => {
      expect(first.status, first.stderr).toBe(0);
      expectInOrder(first.calls, [
        /^curl .*https:\/\/api\.ipify\.org/,
        /^az group create --name rg-test --location swedencentral/,
        /^az deployment group create --resource-group rg-test --name main --parameters .*infra\/main\.bicepparam/,
        /^az acr build --registry acrtest --image doc-intake-frontend:test-tag --build-arg SERVICE=frontend/,
        /^az acr build --registry acrtest --image doc-intake-backend:test-tag --build-arg SERVICE=backend/,
        /^az acr repository show --name acrtest --image doc-intake-frontend:test-tag --query digest/,
        /^az ad app create --display-name doc-intake-doc-intake-backend-api --sign-in-audience AzureADMyOrg/,
        /^az rest --method PATCH --uri https:\/\/graph\.microsoft\.com\/v1\.0\/applications\(appId='66666666-aaaa-4bbb-8ccc-000000000006'\)/,
        /^az ad sp create --id 66666666-aaaa-4bbb-8ccc-000000000006/,
        /^az rest --method PATCH --uri https:\/\/graph\.microsoft\.com\/v1\.0\/servicePrincipals\/77777777-aaaa-4bbb-8ccc-000000000007 .*appRoleAssignmentRequired":true/,
        /^az identity show --resource-group rg-test --name id-frontend --query principalId/,
        /^az rest --method POST --uri https:\/\/graph\.microsoft\.com\/v1\.0\/servicePrincipals\/77777777-aaaa-4bbb-8ccc-000000000007\/appRoleAssignedTo .*"principalId":"88888888-aaaa-4bbb-8ccc-000000000008","resourceId":"77777777-aaaa-4bbb-8ccc-000000000007","appRoleId":"6f0b3c1e-2d4a-4b8e-9a7c-5e1d2f3a4b6c"/,
        /^az keyvault certificate create --vault-name kv-test --name ingress-tls --policy .*CN=doc-intake-test\.swedencentral\.cloudapp\.azure\.com/,
        /^az role assignment create --assignee-object-id 55555555-aaaa-4bbb-8ccc-000000000005 --assignee-principal-type ServicePrincipal --role 4633458b-17de-408a-b874-0445c86b69e6 --scope \/subscriptions\/s\/.*\/vaults\/kv-test\/secrets\/ingress-tls/,
        /^az deployment group show --resource-group rg-test --name main --query properties\.outputs --output json/,
        /^az aks get-credentials --resource-group rg-test --name aks-doc-intake/,
        /^kubelogin convert-kubeconfig --login azurecli/,
        /^kubectl patch nginxingresscontroller default --type merge --patch .*azure-dns-label-name":"doc-intake-test"/,
        /^kubectl apply -k .*k8s\/overlays\/aks/,
        /^kubectl create token frontend --namespace doc-intake --audience api:\/\/AzureADTokenExchange/,
        /^curl .*client_id=11111111-aaaa-4bbb-8ccc-000000000001/,
        /^kubectl create token backend --namespace doc-intake/,
        /^kubectl rollout restart deployment --namespace doc-intake/,
        /^kubectl rollout status deployment.apps\/frontend/,
      ]);
    });

    it('deploys k8s/overlays/aks, and no other overlay', () => {
      expect(first.calls.filter((call) => call.startsWith('kubectl apply'))).toEqual([
        `kubectl apply -k ${box.root}/k8s/overlays/aks`,
      ]);
      // [keda] begin
      // Nothing done to KEDA without the option: no keda.env, no call names it.
      expect(existsSync(join(box.root, 'k8s/overlays/aks-keda/keda.env'))).toBe(false);
      expect(first.calls.join('\n')).not.toMatch(/keda/);
      // [keda] end
    });

    it('retries an exchange Entra ID refuses (AADSTS700213) before restarting, and says so', () => {
      const exchanges = first.calls.filter(
        (call) => call.startsWith('curl ') && call.includes('client_assertion'),
      );
      expect(exchanges.length).toBe(3); // frontend refused once, then frontend and backend accepted
      expect(first.stderr).toContain('frontend: HTTP 401 AADSTS700213');
      expect(first.stderr).toContain('backend: token exchange works');
    });

    it('prints each command it runs, and never a token', () => {
      expect(first.stderr).toMatch(/\$ az deployment group create/);
      expect(first.stderr + first.stdout).not.toMatch(/service-account-token|secret-access-token/);
      // The assertion goes to curl from a file, so it is not on any command line either.
      expect(first.calls.join('\n')).not.toContain('service-account-token');
      expect(
        first.calls.find((call) => call.startsWith('curl ') && call.includes('client_id=')),
      ).toMatch(/client_assertion@\//);
    });

    it("authorizes the deployer's detected address on the API server", () => {
      expect(first.stderr).toContain('API server authorized ranges: 203.0.113.10/32');
      const provision = first.calls.find((call) => call.startsWith('az deployment group create'));
      expect(provision).toBeDefined();
      expect(readFileSync(join(box.state, 'provision-env'), 'utf8')).toContain(
        'AKS_DEPLOYER_IP_RANGE=203.0.113.10/32',
      );
    });

    it('gives the backend API its declared app role and the frontend that role, v2 tokens, api://<appId>', () => {
      const application = readFileSync(join(box.state, 'graph-patches'), 'utf8')
        .split('\n')
        .find((call) => call.includes('/applications('))!;
      const body = JSON.parse(application.replace(/^.*--body (\{.*\}) --output none$/, '$1')) as {
        identifierUris: string[];
        api: { requestedAccessTokenVersion: number };
        appRoles: { value: string; id: string; allowedMemberTypes: string[] }[];
      };
      expect(body.identifierUris).toEqual(['api://66666666-aaaa-4bbb-8ccc-000000000006']);
      expect(body.api).toEqual({ requestedAccessTokenVersion: 2 });
      expect(body.appRoles).toMatchObject([
        {
          value: 'Documents.Read',
          id: '6f0b3c1e-2d4a-4b8e-9a7c-5e1d2f3a4b6c',
          allowedMemberTypes: ['Application'],
        },
      ]);
    });

    it('writes the overlay env file with every output, the image digests, the API and the certificate', () => {
      const env = readFileSync(join(box.root, 'k8s/overlays/aks/azure.env'), 'utf8');
      expect(env).toContain('frontendClientId=11111111-aaaa-4bbb-8ccc-000000000001');
      expect(env).toContain('imageTag=test-tag');
      expect(env).toContain(`frontendImageVersion=test-tag@${digestOf('doc-intake-frontend')}`);
      expect(env).toContain(`backendImageVersion=test-tag@${digestOf('doc-intake-backend')}`);
      expect(env).toContain('backendApiAudience=66666666-aaaa-4bbb-8ccc-000000000006');
      expect(env).toContain('backendApiScope=api://66666666-aaaa-4bbb-8ccc-000000000006/.default');
      expect(env).toContain('ingressHost=doc-intake-test.swedencentral.cloudapp.azure.com');
      expect(env).toContain(
        'ingressCertificateUri=https://kv-test.vault.azure.net/certificates/ingress-tls',
      );
      expect(env).toContain('acrLoginServer=acrtest.azurecr.io');
      expect(env).toContain(
        'applicationInsightsConnectionString=InstrumentationKey=44444444-aaaa-4bbb-8ccc-000000000004;IngestionEndpoint=https://swedencentral-0.in.applicationinsights.azure.com/',
      );
    });

    it('writes the Key Vault secrets the first time only, so running it again does not rotate keys', async () => {
      expect(first.stderr).toContain('write Key Vault secrets: true');
      const rerun = copyOf(box);
      const again = await deploy(rerun);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).toContain('write Key Vault secrets: false');
      expect(
        indexOf(
          again.calls,
          /^az resource show .*--parent vaults\/kv-test .*--name backend-signing-key/,
        ),
      ).toBeGreaterThanOrEqual(0);
      expect(existsSync(join(rerun.state, 'deployed'))).toBe(true);
      // Idempotent: no second app registration, grant, certificate or role assignment.
      expect(again.calls.join('\n')).not.toMatch(
        /ad app create|ad sp create|--method POST|certificate create|role assignment create/,
      );
    }, 180_000); // a second whole deploy, perhaps waiting for a turn

    it('stops after provisioning with PROVISION_ONLY=true (the workflow signs in again first)', async () => {
      const run = await deploy(copyOf(box), { PROVISION_ONLY: 'true' });
      expect(run.status, run.stderr).toBe(0);
      expect(indexOf(run.calls, /^az deployment group create /)).toBeGreaterThanOrEqual(0);
      expect(run.calls.join('\n')).not.toMatch(/acr build|kubectl/);
    }, 180_000);

    it('keeps what an existing deployment fixed at creation: vault retention, system pool size', async () => {
      const old = copyOf(box);
      writeFileSync(join(old.state, 'old-vault'), '');
      const again = await deploy(old);
      expect(again.status, again.stderr).toBe(0);
      const provisioned = readFileSync(join(old.state, 'provision-env'), 'utf8');
      expect(provisioned).toContain('KEY_VAULT_RETENTION_DAYS=7');
      expect(provisioned).toContain('AKS_NODE_VM_SIZE=Standard_D4ds_v5');
      expect(again.stderr).toContain(
        'kept from the existing deployment: KEY_VAULT_RETENTION_DAYS=7',
      );
      // An explicit setting wins.
      const chosen = await deploy(old, { AKS_NODE_VM_SIZE: 'Standard_D8ds_v5' });
      expect(readFileSync(join(old.state, 'provision-env'), 'utf8')).toContain(
        'AKS_NODE_VM_SIZE=Standard_D8ds_v5',
      );
      expect(chosen.status, chosen.stderr).toBe(0);
    }, 240_000); // two whole deploys, perhaps waiting for a turn

    it.each([
      ['private', 'is a private cluster: run this from a machine in its VNet'],
      [
        'isolated',
        'was provisioned with networkIsolation: its registry and Key Vault answer only in the VNet',
      ],
    ])(
      'refuses a %s deployment from outside its VNet, saying how to deploy it',
      async (mode, message) => {
        // Two copies of the deployment, both of this kind: one deployed from outside, one from within.
        const [outside, inside] = [copyOf(box), copyOf(box)];
        for (const copy of [outside, inside]) writeFileSync(join(copy.state, mode), '');
        const [run, fromVnet] = await Promise.all([
          deploy(outside, { AZURE_RESOURCE_GROUP: 'rg-test' }, 'scripts/deploy-app.sh'),
          deploy(
            inside,
            { AZURE_RESOURCE_GROUP: 'rg-test', DEPLOY_FROM_VNET: 'true' },
            'scripts/deploy-app.sh',
          ),
        ]);
        expect(run.status).not.toBe(0);
        expect(run.stderr).toContain(message);
        expect(run.calls.join('\n')).not.toMatch(/acr build|kubectl/);
        expect(fromVnet.status, fromVnet.stderr).toBe(0);
      },
      180_000,
    );
  },
);

// [keda] begin
describe.skipIf(process.platform === 'win32')(
  'scripts/deploy-aks.sh with ENABLE_KEDA_AUTOSCALING=true (with stand-in CLIs)',
  { concurrent: true },
  () => {
    let box: Sandbox;
    let first: Run;
    const keda = { ENABLE_KEDA_AUTOSCALING: 'true' };
    beforeAll(async () => {
      box = sandbox();
      first = await deploy(box, keda);
    }, 180_000);

    it('provisions with the option, writes keda.env, applies k8s/overlays/aks-keda, waits for KEDA’s credential too', () => {
      expect(first.status, first.stderr).toBe(0);
      expectInOrder(first.calls, [
        /^az deployment group create --resource-group rg-test --name main --parameters .*infra\/main\.bicepparam/,
        /^az deployment group show --resource-group rg-test --name main --query properties\.outputs --output json/,
        /^kubectl apply -k .*k8s\/overlays\/aks-keda$/,
        // The add-on's ServiceAccount, annotated as Microsoft's KEDA guide does.
        new RegExp(
          `^kubectl annotate serviceaccount keda-operator --namespace kube-system --overwrite azure.workload.identity/client-id=${KEDA_CLIENT_ID}$`,
        ),
        /^kubectl create token frontend --namespace doc-intake/,
        /^kubectl create token backend --namespace doc-intake/,
        /^kubectl create token keda-operator --namespace kube-system --audience api:\/\/AzureADTokenExchange/,
        new RegExp(`^curl .*client_id=${KEDA_CLIENT_ID}`),
        /^kubectl rollout restart deployment --namespace doc-intake$/,
        /^kubectl rollout restart deployment keda-operator --namespace kube-system$/,
      ]);
      // Instead of overlays/aks, not as well.
      expect(first.calls.filter((call) => call.startsWith('kubectl apply'))).toEqual([
        `kubectl apply -k ${box.root}/k8s/overlays/aks-keda`,
      ]);
      expect(first.stderr).toContain('keda-operator: token exchange works');
    });

    it('writes both env files of the overlay from the outputs', () => {
      const env = readFileSync(join(box.root, 'k8s/overlays/aks-keda/keda.env'), 'utf8');
      expect(env).toMatch(/^# Written by scripts\/write-aks-env\.sh from deployment rg-test\/main/);
      expect(env).toContain(`kedaClientId=${KEDA_CLIENT_ID}\n`);
      expect(readFileSync(join(box.root, 'k8s/overlays/aks/azure.env'), 'utf8')).toContain(
        'backendClientId=11111111-aaaa-4bbb-8ccc-000000000002',
      );
    });

    it('leaves KEDA’s operator alone on the next run, its annotation being right', async () => {
      const again = await deploy(copyOf(box), keda);
      expect(again.status, again.stderr).toBe(0);
      expect(indexOf(again.calls, /^kubectl apply -k .*k8s\/overlays\/aks-keda$/)).toBeGreaterThan(
        0,
      );
      expect(again.calls.join('\n')).not.toMatch(/annotate|restart deployment keda-operator/);
    }, 180_000);

    it('refuses to deploy the KEDA overlay onto a deployment provisioned without it, saying why', async () => {
      const without = copyOf(box);
      expect((await deploy(without)).status).toBe(0); // provisioned again, now without KEDA
      const run = await deploy(
        without,
        { ...keda, AZURE_RESOURCE_GROUP: 'rg-test' },
        'scripts/deploy-app.sh',
      );
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain('lacks the output(s): kedaClientId');
      expect(run.stderr).toContain('provision with ENABLE_KEDA_AUTOSCALING=true first');
      expect(run.calls.join('\n')).not.toMatch(/kubectl apply/);
    }, 240_000);
  },
);
// [keda] end

describe.skipIf(process.platform === 'win32')(
  'scripts/deploy-aks.sh with a third declared service (with stand-in CLIs)',
  { concurrent: true },
  () => {
    let box: Sandbox;
    let run: Run;
    beforeAll(async () => {
      box = sandbox();
      const file = await loadIdentities(join(repoRoot, 'infra/identities.json'));
      writeFileSync(
        join(box.root, 'infra/identities.json'),
        JSON.stringify(withReporter(file), null, 2),
      );
      // The overlay of a fork that added the reporter names its client id and image.
      const example = join(box.root, 'k8s/overlays/aks/azure.env.example');
      writeFileSync(
        example,
        `${readFileSync(example, 'utf8')}reporterClientId=x\nreporterImageVersion=x\n`,
      );
      run = await deploy(box);
    }, 180_000);

    it('builds and pushes its image, pins it by digest, and waits for its credential', () => {
      expect(run.status, run.stderr).toBe(0);
      expectInOrder(run.calls, [
        /^az acr build --registry acrtest --image doc-intake-frontend:test-tag --build-arg SERVICE=frontend/,
        /^az acr build --registry acrtest --image doc-intake-backend:test-tag --build-arg SERVICE=backend/,
        /^az acr build --registry acrtest --image doc-intake-reporter:test-tag --build-arg SERVICE=reporter/,
        /^az acr repository show --name acrtest --image doc-intake-reporter:test-tag --query digest/,
        /^kubectl create token reporter --namespace doc-intake --audience api:\/\/AzureADTokenExchange/,
        /^curl .*client_id=11111111-aaaa-4bbb-8ccc-000000000003/,
        /^kubectl rollout restart deployment --namespace doc-intake/,
      ]);
      expect(run.stderr).toContain('reporter: token exchange works');
    });

    it('writes its client id and image version into the overlay env file', () => {
      const env = readFileSync(join(box.root, 'k8s/overlays/aks/azure.env'), 'utf8');
      expect(env).toContain('reporterClientId=11111111-aaaa-4bbb-8ccc-000000000003\n');
      expect(env).toContain(`reporterImageVersion=test-tag@${digestOf('doc-intake-reporter')}\n`);
      expect(env).toContain(`frontendImageVersion=test-tag@${digestOf('doc-intake-frontend')}\n`);
    });

    it('builds the third image with IMAGE_BUILDER=docker too, and pushes it', async () => {
      const withDocker = copyOf(box);
      const docker = join(withDocker.root, 'scripts/docker-build.sh');
      writeFileSync(docker, '#!/usr/bin/env bash\necho "docker-build $*" >>"$FAKE_LOG"\n');
      chmodSync(docker, 0o755);
      symlinkSync(
        join(repoRoot, 'test/infra/support/fake-cli.sh'),
        join(withDocker.root, '.fake-bin/docker'),
      );
      const again = await deploy(
        withDocker,
        { AZURE_RESOURCE_GROUP: 'rg-test', IMAGE_BUILDER: 'docker' },
        'scripts/deploy-app.sh',
      );
      expect(again.status, again.stderr).toBe(0);
      expectInOrder(again.calls, [
        /^docker-build frontend backend reporter$/,
        /^docker push .*\/doc-intake-frontend:test-tag$/,
        /^docker push .*\/doc-intake-backend:test-tag$/,
        /^docker push .*\/doc-intake-reporter:test-tag$/,
      ]);
    }, 180_000);
  },
);

describe.skipIf(process.platform === 'win32')(
  'scripts/azd-preprovision.sh (azd up)',
  { concurrent: true },
  () => {
    it("authorizes the deployer's detected address on the API server, on every provision", async () => {
      const box = sandbox();
      try {
        writeFileSync(box.log, '');
        const run = await inSlot(() =>
          spawnScript('sh', [join(box.root, 'scripts/azd-preprovision.sh')], {
            ...box.env,
            AZURE_RESOURCE_GROUP: 'rg-test',
          }),
        );
        expect(run.status, run.stderr).toBe(0);
        const calls = readFileSync(box.log, 'utf8').trim().split('\n');
        expectInOrder(calls, [
          /^azd env set WRITE_SECRETS true$/,
          /^curl .*https:\/\/api\.ipify\.org/,
          /^azd env set AKS_DEPLOYER_IP_RANGE 203\.0\.113\.10\/32$/,
        ]);
      } finally {
        rmSync(box.root, { recursive: true, force: true });
      }
    });
  },
);
