import { describe, expect, it } from 'vitest';
import { loadAzureConfig } from './azure-config.js';

const complete = {
  AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  AZURE_TENANT_ID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
  AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
  AZURE_KEYVAULT_URL: 'https://kv-intake.vault.azure.net/',
  AZURE_STORAGE_BLOB_ENDPOINT: 'https://stintake.blob.core.windows.net/',
  AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: 'sb-intake.servicebus.windows.net',
  AZURE_COSMOS_ENDPOINT: 'https://cosmos-intake.documents.azure.com:443/',
};

describe('loadAzureConfig', () => {
  it('reads the webhook variables and the endpoints of the requested resources', () => {
    const config = loadAzureConfig(complete, ['keyVault', 'serviceBus']);
    expect(config).toEqual({
      clientId: complete.AZURE_CLIENT_ID,
      tenantId: complete.AZURE_TENANT_ID,
      federatedTokenFile: complete.AZURE_FEDERATED_TOKEN_FILE,
      authorityHost: complete.AZURE_AUTHORITY_HOST,
      keyVaultUrl: complete.AZURE_KEYVAULT_URL,
      serviceBusNamespace: complete.AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE,
    });
  });

  it('does not require endpoints of resources the service does not use', () => {
    const { AZURE_COSMOS_ENDPOINT: _unused, ...withoutCosmos } = complete;
    expect(() => loadAzureConfig(withoutCosmos, ['blob'])).not.toThrow();
  });

  it('names the missing variable and hints at the webhook for workload identity variables', () => {
    const { AZURE_FEDERATED_TOKEN_FILE: _missing, ...env } = complete;
    expect(() => loadAzureConfig(env, [])).toThrow(
      /^Missing environment variable AZURE_FEDERATED_TOKEN_FILE \(injected by the workload identity webhook/,
    );
  });

  it('names a missing endpoint variable', () => {
    const { AZURE_COSMOS_ENDPOINT: _missing, ...env } = complete;
    expect(() => loadAzureConfig(env, ['cosmos'])).toThrow(
      'Missing environment variable AZURE_COSMOS_ENDPOINT',
    );
  });

  it.each([
    ['AZURE_CLIENT_ID', 'not-a-guid', /AZURE_CLIENT_ID: must be a GUID/],
    ['AZURE_KEYVAULT_URL', 'http://kv.vault.azure.net', /AZURE_KEYVAULT_URL: must use https/],
    [
      'AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE',
      'Endpoint=sb://x/;SharedAccessKey=y',
      /must be a host name/,
    ],
  ])('rejects a malformed %s', (name, value, message) => {
    expect(() =>
      loadAzureConfig({ ...complete, [name]: value }, ['keyVault', 'serviceBus']),
    ).toThrow(message);
  });
});
