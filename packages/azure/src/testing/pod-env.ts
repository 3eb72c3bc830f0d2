/**
 * For tests: the variables the workload identity webhook and a Deployment give a pod, with
 * addresses that resolve nowhere. Nothing is contacted (clients connect on first use), so a
 * module built from these starts without a cloud. Services add their own variables beside them.
 */
export const POD_AZURE_ENV = {
  AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  AZURE_TENANT_ID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  AZURE_FEDERATED_TOKEN_FILE: '/nonexistent/azure-identity-token',
  AZURE_AUTHORITY_HOST: 'https://login.invalid/',
  AZURE_KEYVAULT_URL: 'https://kv.vault.invalid/',
  AZURE_STORAGE_BLOB_ENDPOINT: 'https://st.blob.invalid/',
  AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: 'sb.servicebus.invalid',
} as const;
