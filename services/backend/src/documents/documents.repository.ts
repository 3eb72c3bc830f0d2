import { type Container, CosmosClient, ErrorResponse } from '@azure/cosmos';
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

  /**
   * Creates the record; never replaces one. 'exists' when a record with this id is already
   * stored (Cosmos's 409): the caller decides whether that is the same document redelivered.
   */
  async create(record: DocumentRecord): Promise<'created' | 'exists'> {
    try {
      await this.container.items.create(record);
      return 'created';
    } catch (error) {
      if (error instanceof ErrorResponse && error.code === 409) return 'exists';
      throw error;
    }
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
