#!/usr/bin/env node
// `pnpm new:service <name>`: adds a service with its own workload identity. Writes
//   services/<name>/                 a NestJS service on @wi/azure: config validated at start-up,
//                                    /healthz/live and /healthz/ready, the Identity report
//   infra/identities.json            its identity id-<name>, ServiceAccount, federated credential
//                                    (no roles, no uses: the declaration is yours to edit)
//   k8s/base/<name>/                 ServiceAccount, Deployment, Service, NetworkPolicy, PDB, and
//                                    uses-patch.yaml (its names, from the declaration)
//   k8s/base/kustomization.yaml, network-policies/allow-azure.yaml, components/azure-outputs,
//   overlays/local (local.env, a CA patch, one replica), overlays/aks (its image by digest, and
//   azure.env.example)
// then links the workspace package (pnpm install --prefer-offline: the lockfile gets its importer,
// which the image build's frozen install needs) and, when scripts/render-compose.mjs
// exists, renders docker-compose.yml. `pnpm dev`, the Dockerfile and scripts/docker-build.sh take
// every service of the declaration already.
//
//   pnpm new:service <name> [--no-install]
//   pnpm new:service --sync     after a role edit: rewrites k8s/base/*/uses-patch.yaml and
//                               docker-compose.yml from the declaration
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CLIENT_ID_ANNOTATION,
  CLUSTER_ISSUER_REFERENCE,
  IdentitiesFileError,
  TENANT_ID_ANNOTATION,
  TOKEN_EXCHANGE_AUDIENCE,
  USE_LABEL,
  identitiesWith,
  loadIdentities,
  localClientId,
  parseIdentities,
  serviceAccountSubject,
} from '@wi/identities';
import { format, resolveConfig } from 'prettier';
import { NameError, checkName, constant, pascal } from './new-service/names.mjs';
import {
  addImageVersionReplacement,
  addOutputTargets,
  appendEnvLine,
  appendToYamlList,
} from './new-service/shared-files.mjs';
import { USES_PATCH, syncUses, usesPatch } from './new-service/sync.mjs';
import { render, renderTree } from './new-service/templates.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const declarationFile = join(root, 'infra', 'identities.json');
const USAGE = 'usage: pnpm new:service <name> [--no-install] | pnpm new:service --sync';

/** The replacements of k8s/components/azure-outputs a generated service is a target of. */
const SHARED_OUTPUTS = [
  'data.tenantId',
  'data.keyVaultUrl',
  'data.storageBlobEndpoint',
  'data.serviceBusFullyQualifiedNamespace',
  'data.imageTag',
  'data.acrLoginServer',
];

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { sync: { type: 'boolean' }, 'no-install': { type: 'boolean' } },
  });
  const declaration = await loadIdentities(declarationFile);
  if (values.sync) {
    if (positionals.length > 0) throw new NameError(USAGE);
    const changed = syncUses(root, declaration);
    console.log(
      changed.length
        ? changed.map((file) => `wrote ${relative(root, file)}`).join('\n')
        : 'every uses-patch.yaml matches infra/identities.json',
    );
    renderCompose();
    return;
  }
  if (positionals.length !== 1) throw new NameError(USAGE);
  const [name] = positionals;
  checkName(name, { root, declaration });

  const identity = newIdentity(name, declaration);
  const next = { ...declaration, identities: [...declaration.identities, identity] };
  // Validated by the loader before anything is written: a name it refuses writes nothing.
  parseIdentities(JSON.parse(JSON.stringify(next)), declarationFile);

  const values_ = placeholders(name, identity, identitiesWith(next));
  const written = [];
  const write = async (path, text) => {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, await prettier(file, text));
    written.push(path);
  };

  for (const [path, text] of renderTree('service', values_)) {
    await write(join('services', name, path), text);
  }
  for (const [path, text] of renderTree('k8s/base', values_)) {
    await write(join('k8s', 'base', name, path), text);
  }
  await write(join('k8s', 'base', name, USES_PATCH), usesPatch(identity));
  await write(
    join('k8s', 'overlays', 'local', `${name}-local.yaml`),
    render('k8s/local/local-patch.yaml', values_),
  );

  // The declaration, formatted as the file is (Prettier over JSON.stringify keeps its layout).
  await writeJson(declarationFile, declarationJsonWith(identity));
  written.push('infra/identities.json');

  const k8s = (...parts) => join(root, 'k8s', ...parts);
  const edits = [
    [
      'k8s/base/kustomization.yaml',
      () => appendToYamlList(k8s('base', 'kustomization.yaml'), ['resources'], name),
    ],
    [
      'k8s/base/network-policies/allow-azure.yaml',
      () =>
        appendToYamlList(
          k8s('base', 'network-policies', 'allow-azure.yaml'),
          ['spec', 'podSelector', 'matchExpressions', 0, 'values'],
          name,
        ),
    ],
    [
      'k8s/components/azure-outputs/kustomization.yaml',
      () =>
        addOutputTargets(k8s('components', 'azure-outputs', 'kustomization.yaml'), {
          name,
          clientIdAnnotation: CLIENT_ID_ANNOTATION,
          shared: SHARED_OUTPUTS,
        }),
    ],
    [
      'k8s/overlays/local/kustomization.yaml',
      () => {
        const file = k8s('overlays', 'local', 'kustomization.yaml');
        appendToYamlList(file, ['patches'], { path: `${name}-local.yaml` });
        appendToYamlList(file, ['replicas'], { name, count: 1 });
      },
    ],
    [
      'k8s/overlays/local/local.env',
      () =>
        appendEnvLine(
          k8s('overlays', 'local', 'local.env'),
          `${name}ClientId`,
          localClientId(identity),
        ),
    ],
    [
      'k8s/overlays/aks/azure.env.example',
      () =>
        appendEnvLine(
          k8s('overlays', 'aks', 'azure.env.example'),
          `${name}ClientId`,
          fakeClientId(name),
        ),
    ],
    [
      'k8s/overlays/aks/kustomization.yaml',
      () =>
        addImageVersionReplacement(k8s('overlays', 'aks', 'kustomization.yaml'), {
          name,
        }),
    ],
    [
      'k8s/overlays/aks/azure.env.example',
      () =>
        appendEnvLine(
          k8s('overlays', 'aks', 'azure.env.example'),
          `${name}ImageVersion`,
          `0.0.0-example@sha256:${fakeDigest(name)}`,
        ),
    ],
  ];
  for (const [path, edit] of edits) {
    edit();
    // Prettier after the YAML library: the file stays as `pnpm lint` wants it (quotes, widths).
    const file = join(root, path);
    writeFileSync(file, await prettier(file, readFileSync(file, 'utf8')));
    written.push(path);
  }

  console.log(written.map((path) => `wrote ${path}`).join('\n'));
  if (!values['no-install'])
    run('pnpm', [join(root, 'scripts', 'pnpm.mjs'), 'install', '--prefer-offline']);
  renderCompose();
  console.log(
    `\n${name}: give it roles and names in infra/identities.json (roleAssignments, uses), then\n` +
      '  pnpm new:service --sync   # its Deployment and compose get the names it uses\n' +
      '  pnpm check:wiring         # every link of its identity holds\n' +
      `  pnpm dev                  # starts it as ${identity.managedIdentityName} on port ${values_.port}`,
  );
}

function newIdentity(name, declaration) {
  const account = { namespace: declaration.namespace, name };
  return JSON.parse(
    render('identity.json', {
      name,
      managedIdentityName: `id-${name}`,
      namespace: account.namespace,
      issuer: CLUSTER_ISSUER_REFERENCE,
      subject: serviceAccountSubject(account),
      audience: TOKEN_EXCHANGE_AUDIENCE,
    }),
  );
}

function placeholders(name, identity, workloads) {
  return {
    name,
    Pascal: pascal(name),
    CONST: constant(name),
    namespace: identity.serviceAccount.namespace,
    managedIdentityName: identity.managedIdentityName,
    subject: identity.federatedCredential.subject,
    // The port `pnpm dev` gives it (3000 + its place among the workloads), everywhere.
    port: String(3000 + workloads.identities.findIndex((i) => i.service === name)),
    useLabel: USE_LABEL,
    clientIdAnnotation: CLIENT_ID_ANNOTATION,
    tenantIdAnnotation: TENANT_ID_ANNOTATION,
  };
}

/** The file's own JSON with the identity appended: not the loader's output, which may reorder keys. */
function declarationJsonWith(identity) {
  const json = JSON.parse(readFileSync(declarationFile, 'utf8'));
  json.identities.push(identity);
  return json;
}

async function writeJson(file, json) {
  writeFileSync(file, await prettier(file, `${JSON.stringify(json, null, 2)}\n`));
}

async function prettier(file, text) {
  // Only what Prettier formats here (pnpm lint): env files, Bicep and the like stay as written.
  if (!/\.(ts|mjs|json|ya?ml|md)$/.test(file)) return text;
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

/** A fake client id for azure.env.example: obviously fake (…fa4e) and distinct per service. */
function fakeClientId(name) {
  const hex = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(16);
  const digits = hex.padStart(8, '0').slice(-8);
  return `${digits}-${digits.slice(0, 4)}-4${digits.slice(1, 4)}-8${digits.slice(5, 8)}-${digits}fa4e`;
}

/** docker-compose.yml carries each service's identity and names: rendered from the declaration. */
function renderCompose() {
  const compose = join(root, 'scripts', 'render-compose.mjs');
  if (existsSync(compose)) run('docker-compose.yml', [compose]);
  else
    console.log('(no scripts/render-compose.mjs: add the service to docker-compose.yml yourself)');
}

/** A fake image digest for azure.env.example: 64 hex digits, fa4e… like the others, per service. */
function fakeDigest(name) {
  return `${'fa4e'.repeat(14)}${fakeClientId(name).slice(0, 8)}`;
}

function run(what, args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${what} failed (${result.status ?? result.signal})`);
}

main(process.argv.slice(2)).catch((error) => {
  if (
    error instanceof NameError ||
    error instanceof IdentitiesFileError ||
    error.code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`new:service: ${error.message}`);
    process.exit(2);
  }
  throw error;
});
