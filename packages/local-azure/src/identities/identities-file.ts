import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

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
 * Optional parts of the deployment an identity can belong to. Such an identity exists only where
 * its feature is on: `keda` is KEDA's, created by infra/main.bicep with enableKedaAutoscaling
 * (ENABLE_KEDA_AUTOSCALING=true) and checked against k8s/overlays/aks-keda.
 */
export const IDENTITY_FEATURES = ['keda'] as const;
export type IdentityFeature = (typeof IDENTITY_FEATURES)[number];

const identitySchema = z.object({
  service: kubernetesName,
  managedIdentityName: z.string().min(3).max(128),
  feature: z
    .enum(IDENTITY_FEATURES)
    .optional()
    .describe(
      'Only where this optional feature is on: keda = ENABLE_KEDA_AUTOSCALING=true (KEDA add-on, k8s/overlays/aks-keda)',
    ),
  serviceAccount: z.object({ namespace: kubernetesName, name: kubernetesName }),
  federatedCredential: z.object({
    name: z.string().min(3).max(120),
    /** `aks-oidc-issuer` stands for the cluster's issuer URL; anything else is compared literally. */
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
});

/** The issuer of GitHub Actions' OIDC tokens: what a deploy identity's federated credential trusts. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The symbolic repository that means "the repository the deployment names" (infra/main.bicep's
 * githubRepository, azd env GITHUB_REPOSITORY), the way `aks-oidc-issuer` stands for the cluster's
 * issuer: a fork deploys its own repository, and no value written here trusts someone else's.
 */
export const DEPLOYMENT_REPOSITORY_REFERENCE = 'github-repository';

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
      'Workload identities: managed identities, service accounts, federated credentials, roles',
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

/** The symbolic issuer that means "this cluster's OIDC issuer URL" (resolved at deploy time). */
export const CLUSTER_ISSUER_REFERENCE = 'aks-oidc-issuer';

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

/** The local stand-in for the managed identity's client id: stable across runs, derived from its name. */
export function localClientId(identity: Pick<ServiceIdentity, 'managedIdentityName'>): string {
  return nameBasedGuid(`client:${identity.managedIdentityName}`);
}

/** The local stand-in for the identity's principal (object) id. */
export function localPrincipalId(identity: Pick<ServiceIdentity, 'managedIdentityName'>): string {
  return nameBasedGuid(`principal:${identity.managedIdentityName}`);
}

/**
 * The local stand-in for the application (client) id of the app registration that protects this
 * service's API. Its identifier URI, and so the audience of tokens for the API, is
 * `api://<this id>`, the form Entra gives new app registrations.
 */
export function localApiAppId(service: string): string {
  return nameBasedGuid(`api:${service}`);
}

/** The identifier URI (token audience) of a service's API in the local cloud. */
export function localApiIdentifierUri(service: string): string {
  return `api://${localApiAppId(service)}`;
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

function nameBasedGuid(name: string): string {
  const hex = createHash('sha256').update(`workload-identity-sample/${name}`).digest('hex');
  // Shaped like an RFC 4122 version 5 UUID so every GUID validator accepts it.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
