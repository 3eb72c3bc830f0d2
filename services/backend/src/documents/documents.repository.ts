import { type Container, CosmosClient } from '@azure/cosmos';
import { Inject, Injectable } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';
import { type DocumentRecord, fromStored } from './document-record.js';

const LIST_LIMIT = 100;

/** Records in Cosmos `intake/documents`, partitioned by id so every point read is a single-partition read. */
@Injectable()
export class DocumentsRepository {
  private readonly container: Container;

  constructor(cosmos: CosmosClient, @Inject(BACKEND_CONFIG) config: BackendConfig) {
    this.container = cosmos.database(config.cosmosDatabase).container(config.cosmosContainer);
  }

  /** Idempotent: a redelivered message rewrites the same record. */
  async upsert(record: DocumentRecord): Promise<void> {
    await this.container.items.upsert(record);
  }

  async get(id: string): Promise<DocumentRecord | undefined> {
    const { resource, statusCode } = await this.container
      .item(id, id)
      .read<Record<string, unknown>>();
    if (statusCode === 404 || !resource) return undefined;
    return fromStored(resource);
  }

  async list(): Promise<DocumentRecord[]> {
    const { resources } = await this.container.items
      .query<Record<string, unknown>>({
        query: `SELECT TOP ${LIST_LIMIT} * FROM c ORDER BY c.uploadedAt DESC`,
      })
      .fetchAll();
    return resources.map(fromStored);
  }
}
