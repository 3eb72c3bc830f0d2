import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEPLOYMENT_REPOSITORY_REFERENCE, GITHUB_ACTIONS_ISSUER } from './vocabulary.js';

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
  message: 'must be a role definition GUID',
});
const kubernetesName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
  message: 'must be a Kubernetes name (lowercase letters, digits, -)',
});

const appRoleValue = z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,119}$/, {
  message: 'must be an app role value (letters, digits, . _ -)',
});

const scopeSchema = z.discriminatedUnion('resource', [
  z.object({ resource: z.literal('storage'), container: z.string().min(3) }),
  z.object({ resource: z.literal('serviceBus'), queue: z.string().min(1) }),
  z.object({ resource: z.literal('keyVault'), secret: z.string().min(1) }),
  z.object({
    resource: z.literal('cosmos'),
    database: z.string().min(1),
    container: z.string().min(1).optional(),
  }),
  // The deployment's one Application Insights component (telemetry ingestion): nothing narrower
  // exists to scope to.
  z.object({ resource: z.literal('applicationInsights') }),
]);

/**
 * The optional part of the deployment an identity belongs to. Such an identity exists only where
 * its feature is on: infra/main.bicep's `features` name each with its parameter (an unknown one
 * fails the deployment), and the wiring check has a module per feature, which checks it against
 * the feature's overlay.
 */
const identityFeature = z.string().regex(/^[a-z][a-z0-9-]*$/, {
  message: 'must be lowercase letters, digits and -',
});
export type IdentityFeature = z.infer<typeof identityFeature>;

const resourceName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
  message: 'must be lowercase letters, digits and -',
});

/**
 * The data-plane resources of the deployment: Bicep creates them, the local cloud creates exactly
 * these, and every role scope and every name a service uses must be one of them.
 */
const resourcesSchema = z.object({
  keyVault: z.object({
    localName: resourceName.describe(
      "The vault's name in the local cloud (in Azure, Bicep derives a globally unique one)",
    ),
    secrets: z
      .array(resourceName)
      .describe('Secrets created with a random value where they do not exist yet'),
  }),
  storage: z.object({ containers: z.array(resourceName.min(3).max(63)) }),
  serviceBus: z.object({
    queues: z.array(
      z.object({
        name: resourceName,
        maxDeliveryCount: z.number().int().min(1).max(2000),
        lockDurationSeconds: z.number().int().min(5).max(300),
      }),
    ),
  }),
  cosmos: z.object({
    databases: z.array(
      z.object({
        name: resourceName,
        containers: z.array(
          z.object({
            name: resourceName,
            partitionKeyPath: z.string().regex(/^\/[A-Za-z0-9_]+$/, {
              message: 'must be a top-level path such as /id',
            }),
          }),
        ),
      }),
    ),
  }),
});

const environmentVariable = z.string().regex(/^[A-Z][A-Z0-9_]*$/, {
  message: 'must be an environment variable name (A-Z, 0-9, _)',
});

/** A resource a service names, as the value of one of its environment variables. */
const usedResourceSchema = z.discriminatedUnion('resource', [
  z.object({ resource: z.literal('storage'), container: z.string().min(3) }),
  z.object({ resource: z.literal('serviceBus'), queue: z.string().min(1) }),
  z.object({ resource: z.literal('keyVault'), secret: z.string().min(1) }),
  z.object({ resource: z.literal('cosmosDatabase'), database: z.string().min(1) }),
  z.object({
    resource: z.literal('cosmosContainer'),
    database: z.string().min(1),
    container: z.string().min(1),
  }),
]);

const identitySchema = z.object({
  service: kubernetesName,
  managedIdentityName: z.string().min(3).max(128),
  feature: identityFeature
    .optional()
    .describe(
      'The optional feature the identity belongs to: it exists only where that feature is on (a parameter of infra/main.bicep, an overlay of k8s/)',
    ),
  serviceAccount: z.object({ namespace: kubernetesName, name: kubernetesName }),
  federatedCredential: z.object({
    name: z.string().min(3).max(120),
    /** CLUSTER_ISSUER_REFERENCE stands for the cluster's issuer URL; anything else is literal. */
    issuer: z.string().min(1),
    // Deliberately explicit (not derived from serviceAccount): a wrong subject must be expressible.
    subject: z.string().regex(/^system:serviceaccount:[^:]+:[^:]+$/, {
      message: 'must look like system:serviceaccount:<namespace>:<name>',
    }),
    audiences: z.array(z.string().min(1)).min(1),
  }),
  roleAssignments: z.array(
    z.object({ role: z.string().min(1), roleDefinitionId: guid, scope: scopeSchema }),
  ),
  api: z
    .object({
      appRoles: z
        .array(
          z.object({
            value: appRoleValue,
            id: guid,
            description: z.string().min(1),
          }),
        )
        .min(1),
    })
    .optional()
    .describe(
      'This service exposes an API protected by Entra: an app registration whose identifier URI is the token audience, with these app roles',
    ),
  calls: z
    .array(z.object({ service: kubernetesName, appRole: appRoleValue }))
    .optional()
    .describe("Other services' APIs this identity may call, each with the app role it is granted"),
  uses: z
    .record(environmentVariable, usedResourceSchema)
    .optional()
    .describe(
      'The resources this service names, by the environment variable that carries each name: pnpm dev, compose and the Deployments set exactly these',
    ),
});

/**
 * A deploy identity: not a workload, no service account. A GitHub Actions workflow running in
 * `environment` of `repository` signs in as it through a federated credential (azure/login with
 * OIDC), so the pipeline holds no secret. Its roles apply to the deployment's resource group.
 */
const deployIdentitySchema = z.object({
  name: kubernetesName,
  managedIdentityName: z.string().min(3).max(128),
  federatedCredential: z.object({
    name: z.string().min(3).max(120),
    issuer: z.literal(GITHUB_ACTIONS_ISSUER),
    repository: z
      .string()
      .regex(/^(github-repository|[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)$/, {
        message: 'must be owner/name or github-repository',
      })
      .describe(
        'owner/name, or github-repository for the repository the deployment names (githubRepository)',
      ),
    // The token's `sub` is repo:<owner>/<name>:environment:<environment> for a job that names this
    // GitHub environment; a pull request's is repo:<owner>/<name>:pull_request and never matches.
    environment: z.string().regex(/^[^:]+$/, { message: 'must be a GitHub environment name' }),
    audiences: z.array(z.string().min(1)).min(1),
  }),
  roleAssignments: z.array(
    z.object({
      role: z.string().min(1),
      roleDefinitionId: guid,
      scope: z.object({ resource: z.literal('resourceGroup') }),
      condition: z
        .literal('declared-roles-only')
        .optional()
        .describe(
          'Role Based Access Control Administrator only: it may assign (and remove) only the roles the templates assign',
        ),
    }),
  ),
});

const identitiesFileSchema = z
  .object({
    $schema: z.string().optional(),
    namespace: kubernetesName,
    resources: resourcesSchema,
    identities: z.array(identitySchema).min(1),
    deployIdentities: z
      .array(deployIdentitySchema)
      .optional()
      .describe(
        'Identities a deploy pipeline signs in as (GitHub Actions OIDC federation); not workloads',
      ),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.identities.forEach((identity, index) => {
      if (seen.has(identity.service)) {
        ctx.addIssue({
          code: 'custom',
          path: ['identities', index, 'service'],
          message: `duplicate service '${identity.service}'`,
        });
      }
      seen.add(identity.service);
    });
    for (const problem of undeclaredResources(file)) ctx.addIssue({ code: 'custom', ...problem });
    file.identities.forEach((identity, index) => {
      (identity.calls ?? []).forEach((call, callIndex) => {
        const callee = file.identities.find((other) => other.service === call.service);
        const path = ['identities', index, 'calls', callIndex];
        if (!callee?.api) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'service'],
            message: `service '${call.service}' declares no api`,
          });
        } else if (!callee.api.appRoles.some((role) => role.value === call.appRole)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'appRole'],
            message: `service '${call.service}' has no app role '${call.appRole}'`,
          });
        }
      });
    });
  });

export type IdentitiesFile = z.infer<typeof identitiesFileSchema>;
export type DeclaredResources = IdentitiesFile['resources'];
export type UsedResource = z.infer<typeof usedResourceSchema>;

/** Every role scope and every used name that is not a declared resource, with its JSON path. */
function undeclaredResources(
  file: Pick<IdentitiesFile, 'resources' | 'identities'>,
): Array<{ path: (string | number)[]; message: string }> {
  const { keyVault, storage, serviceBus, cosmos } = file.resources;
  const database = (name: string) => cosmos.databases.find((db) => db.name === name);
  const problem = (kind: string, name: string) => `${kind} '${name}' is not declared in resources`;
  const check = (scope: { resource: string } & Record<string, unknown>): string | undefined => {
    switch (scope.resource) {
      case 'storage':
        return storage.containers.includes(String(scope.container))
          ? undefined
          : problem('container', String(scope.container));
      case 'serviceBus':
        return serviceBus.queues.some((q) => q.name === scope.queue)
          ? undefined
          : problem('queue', String(scope.queue));
      case 'keyVault':
        return keyVault.secrets.includes(String(scope.secret))
          ? undefined
          : problem('secret', String(scope.secret));
      case 'cosmos':
      case 'cosmosDatabase':
      case 'cosmosContainer': {
        const db = database(String(scope.database));
        if (!db) return problem('Cosmos DB database', String(scope.database));
        if (scope.container === undefined) return undefined;
        return db.containers.some((c) => c.name === scope.container)
          ? undefined
          : problem('Cosmos DB container', `${db.name}/${String(scope.container)}`);
      }
      default:
        return undefined;
    }
  };
  return file.identities.flatMap((identity, index) => [
    ...identity.roleAssignments.flatMap((assignment, i) => {
      const message = check(assignment.scope);
      return message
        ? [{ path: ['identities', index, 'roleAssignments', i, 'scope'], message }]
        : [];
    }),
    ...Object.entries(identity.uses ?? {}).flatMap(([variable, used]) => {
      const message = check(used);
      return message ? [{ path: ['identities', index, 'uses', variable], message }] : [];
    }),
  ]);
}

/**
 * The JSON Schema of the identities file (infra/identities.schema.json), generated from the same
 * definition the loader enforces so that editors and the loader cannot disagree. Uniqueness of
 * services is checked by the loader only.
 */
export function identitiesJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(identitiesFileSchema, { target: 'draft-2020-12', io: 'input' }),
    $id: 'https://github.com/workload-identity-nestjs/infra/identities.schema.json',
    title:
      'The declaration: resources, services and their identities, service accounts, federated credentials, roles and API grants',
  };
}
export type ServiceIdentity = IdentitiesFile['identities'][number];
export type DeployIdentity = NonNullable<IdentitiesFile['deployIdentities']>[number];

/** The `sub` claim of the GitHub Actions token a deploy identity trusts. */
export function deploySubject(identity: DeployIdentity, repository: string): string {
  const name =
    identity.federatedCredential.repository === DEPLOYMENT_REPOSITORY_REFERENCE
      ? repository
      : identity.federatedCredential.repository;
  return `repo:${name}:environment:${identity.federatedCredential.environment}`;
}
export type RoleAssignment = ServiceIdentity['roleAssignments'][number];

/**
 * The identities that exist with these optional features on: every identity without a feature,
 * and those of the features named. With none (the default) that is what the local cloud and the
 * aks and local overlays have; infra/main.bicep applies the same rule to its parameters.
 */
export function identitiesWith(
  file: IdentitiesFile,
  features: readonly IdentityFeature[] = [],
): IdentitiesFile {
  return {
    ...file,
    identities: file.identities.filter(
      (identity) => identity.feature === undefined || features.includes(identity.feature),
    ),
  };
}

export class IdentitiesFileError extends Error {
  override name = 'IdentitiesFileError';
}

/** Validates the identities file, naming the JSON path of the first problem. */
export function parseIdentities(json: unknown, source = 'infra/identities.json'): IdentitiesFile {
  const result = identitiesFileSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
  throw new IdentitiesFileError(`${source}: ${path || '(root)'}: ${issue.message}`);
}

export async function loadIdentities(path: string): Promise<IdentitiesFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new IdentitiesFileError(`${path}: ${(error as Error).message}`);
  }
  return parseIdentities(json, path);
}

/** The app roles `caller` is granted on `callee`'s API, from the declaration's `calls`. */
export function grantedAppRoles(
  file: IdentitiesFile,
  caller: string,
  callee: string,
): readonly string[] {
  const identity = file.identities.find((candidate) => candidate.service === caller);
  return (identity?.calls ?? [])
    .filter((call) => call.service === callee)
    .map((call) => call.appRole);
}
