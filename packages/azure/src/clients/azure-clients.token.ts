/**
 * DI token of the AzureClients record (azure-clients.module.ts): shared code injects the clients
 * through it, so that it never imports an SDK module a service does not use.
 */
export const AZURE_CLIENTS = Symbol('AZURE_CLIENTS');
