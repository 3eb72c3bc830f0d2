import { Inject, Injectable } from '@nestjs/common';
import type { AzureClients } from '../clients/azure-clients.module.js';
import { AZURE_CLIENTS } from '../clients/azure-clients.token.js';
import { type ProbeDefinition, probes } from '../health/permission-probes.js';
import { UNGRANTED_NAMES, type UngrantedNames } from './identity-report.options.js';

/**
 * The probes a service must fail: one read of each declared name none of its roles reach
 * (ungrantedNames in @wi/identities), expected to be refused by the data plane itself. The names
 * come from the declaration, so no service names another's secret in code. A kind the service
 * has no client for (the frontend has no Cosmos DB endpoint) cannot even be tried, and is left out.
 */
@Injectable()
export class DeclaredDenials {
  constructor(
    @Inject(UNGRANTED_NAMES) private readonly names: UngrantedNames,
    // The record, not the SDK classes: importing those would load every SDK into every service.
    @Inject(AZURE_CLIENTS) private readonly clients: AzureClients,
  ) {}

  probes(): ProbeDefinition[] {
    const { keyVault: secrets, blob: blobs, serviceBus, cosmos } = this.clients;
    const names = this.names;
    return [
      ...(secrets ? names.secrets.map((name) => probes.readSecret(secrets, name, 'denied')) : []),
      ...(blobs ? names.containers.map((name) => probes.listBlobs(blobs, name, 'denied')) : []),
      ...(serviceBus ? names.queues.map((name) => probes.receive(serviceBus, name, 'denied')) : []),
      ...(cosmos
        ? names.cosmosContainers.map(({ database, container }) =>
            probes.readContainer(cosmos, database, container, 'denied'),
          )
        : []),
    ];
  }
}
