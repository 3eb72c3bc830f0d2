import { z } from 'zod';
import { WEBHOOK_VARIABLES } from '@wi/identities';

/** The Azure resources a service can ask the module for; each brings its own endpoint variable. */
export type AzureResource = 'keyVault' | 'blob' | 'serviceBus' | 'cosmos';

export const ENDPOINT_VARIABLES: Readonly<Record<AzureResource, string>> = {
  keyVault: 'AZURE_KEYVAULT_URL',
  blob: 'AZURE_STORAGE_BLOB_ENDPOINT',
  serviceBus: 'AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE',
  cosmos: 'AZURE_COSMOS_ENDPOINT',
};

export interface AzureConfig {
  clientId: string;
  tenantId: string;
  federatedTokenFile: string;
  authorityHost: string;
  keyVaultUrl?: string;
  blobEndpoint?: string;
  serviceBusNamespace?: string;
  cosmosEndpoint?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Building blocks for the services' own variable schemas, with messages a person can act on. */
export const envVar = {
  positiveInt: (fallback: number) =>
    z.coerce
      .number({ message: 'must be a positive integer' })
      .int('must be a positive integer')
      .positive('must be a positive integer')
      .default(fallback),
  name: (fallback: string) => z.string().min(1).default(fallback),
  flag: (fallback: 'true' | 'false') =>
    z.enum(['true', 'false'], { message: "must be 'true' or 'false'" }).default(fallback),
};

/**
 * Validates a service's own variables against a zod object schema whose keys are variable names.
 * Empty values count as unset (so defaults apply); the error names the first missing or
 * malformed variable, for a one-line exit.
 */
export function parseEnvironment<T extends z.ZodObject>(
  schema: T,
  env: NodeJS.ProcessEnv,
): z.output<T> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0]);
  throw new ConfigError(
    variable in present
      ? `Malformed environment variable ${variable}: ${issue.message}`
      : `Missing environment variable ${variable}`,
  );
}

const uuid = z.guid({ message: 'must be a GUID (the managed identity client id / tenant id)' });
const httpsUrl = z
  .url({ message: 'must be an absolute URL' })
  .refine((value) => value.startsWith('https://'), { message: 'must use https://' });
// A namespace host, optionally with a port (host:port), never a connection string.
const namespaceHost = z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, {
  message: 'must be a host name such as mybus.servicebus.windows.net',
});

const validators: Record<string, z.ZodType<string>> = {
  AZURE_CLIENT_ID: uuid,
  AZURE_TENANT_ID: uuid,
  AZURE_FEDERATED_TOKEN_FILE: z.string().min(1, { message: 'must be a file path' }),
  AZURE_AUTHORITY_HOST: httpsUrl,
  AZURE_KEYVAULT_URL: httpsUrl,
  AZURE_STORAGE_BLOB_ENDPOINT: httpsUrl,
  AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: namespaceHost,
  AZURE_COSMOS_ENDPOINT: httpsUrl,
};

/**
 * Reads and validates the variables for the given resources. The first problem found is reported
 * in one line naming the variable, so a pod's crash log says exactly what to fix.
 */
export function loadAzureConfig(
  env: NodeJS.ProcessEnv,
  resources: readonly AzureResource[],
): AzureConfig {
  const read = (name: string): string => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      throw new ConfigError(`Missing environment variable ${name}${hint(name)}`);
    }
    const result = validators[name]!.safeParse(raw.trim());
    if (!result.success) {
      throw new ConfigError(
        `Malformed environment variable ${name}: ${result.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    return result.data;
  };
  const config: AzureConfig = {
    clientId: read('AZURE_CLIENT_ID'),
    tenantId: read('AZURE_TENANT_ID'),
    federatedTokenFile: read('AZURE_FEDERATED_TOKEN_FILE'),
    authorityHost: read('AZURE_AUTHORITY_HOST'),
  };
  for (const resource of resources) {
    const value = read(ENDPOINT_VARIABLES[resource]);
    if (resource === 'keyVault') config.keyVaultUrl = value;
    if (resource === 'blob') config.blobEndpoint = value;
    if (resource === 'serviceBus') config.serviceBusNamespace = value;
    if (resource === 'cosmos') config.cosmosEndpoint = value;
  }
  return config;
}

function hint(name: string): string {
  return (WEBHOOK_VARIABLES as readonly string[]).includes(name)
    ? ' (injected by the workload identity webhook: is the pod label azure.workload.identity/use: "true" set and the service account annotated with its client id?)'
    : '';
}
