export type KeyVaultDataAction =
  | 'Microsoft.KeyVault/vaults/secrets/getSecret/action'
  | 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'
  | 'Microsoft.KeyVault/vaults/secrets/setSecret/action';

/** A Key Vault secrets request: its operation, data action and scope (a secret, or the vault). */
export interface VaultTarget {
  operation: 'list' | 'get' | 'versions' | 'set';
  action: KeyVaultDataAction;
  secret?: string;
  version?: string;
}

export interface VaultRefusal {
  status: number;
  code: string;
  message: string;
}

/** Key Vault's object name rule: 1–127 letters, digits and hyphens. */
const OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VERSION = /^[0-9a-f]{32}$/i;

/**
 * Maps a request to the Key Vault data action Azure RBAC checks for it. Listing secrets or a
 * secret's versions reads metadata (at the vault, or the secret); reading a value is getSecret;
 * writing is setSecret. Anything else is refused before any decision.
 */
export function keyVaultRequestTarget(
  method: string,
  segments: readonly string[],
): VaultTarget | VaultRefusal {
  const [collection, name, tail, ...rest] = segments;
  const unsupported = {
    status: 400,
    code: 'BadParameter',
    message: `The request URI /${segments.join('/')} is not supported.`,
  };
  if (collection !== 'secrets' || rest.length > 0) return unsupported;
  if (name === undefined) {
    if (method !== 'GET') return methodNotAllowed(method);
    return { operation: 'list', action: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action' };
  }
  if (!OBJECT_NAME.test(name)) {
    return {
      status: 400,
      code: 'BadParameter',
      message: `The secret name '${name.slice(0, 130)}' is invalid: it must be 1-127 letters, digits or dashes.`,
    };
  }
  if (tail === 'versions') {
    if (method !== 'GET') return methodNotAllowed(method);
    return {
      operation: 'versions',
      action: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
      secret: name,
    };
  }
  if (method === 'PUT' && tail === undefined) {
    return {
      operation: 'set',
      action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
      secret: name,
    };
  }
  if (method !== 'GET') return methodNotAllowed(method);
  if (tail !== undefined && !VERSION.test(tail)) {
    return { status: 400, code: 'BadParameter', message: 'The secret version is invalid.' };
  }
  return {
    operation: 'get',
    action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
    secret: name,
    ...(tail === undefined ? {} : { version: tail }),
  };
}

function methodNotAllowed(method: string): VaultRefusal {
  return {
    status: 405,
    code: 'MethodNotAllowed',
    message: `${method.slice(0, 16)} is not supported.`,
  };
}
