import {
  Controller,
  Get,
  Logger,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { DocumentListResponse, DocumentView } from '@wi/contracts';
import { describeAzureError } from '@wi/azure';
import { DOCUMENTS_READ, RequireAppRole } from '../common/decorators/app-role.decorator.js';
import { RecordSigner } from '../signing/record-signer.js';
import { toView } from './document-record.js';
import { DocumentsRepository } from './documents.repository.js';

/** Only callers assigned the API's Documents.Read app role (the frontend's identity). */
@Controller('documents')
@RequireAppRole(DOCUMENTS_READ)
export class DocumentsController {
  private readonly logger = new Logger(DocumentsController.name);

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly signer: RecordSigner,
  ) {}

  @Get()
  async list(): Promise<DocumentListResponse> {
    const records = await this.unavailableOnError(() => this.documents.list());
    return { items: records.map((record) => toView(record)) };
  }

  @Get(':id')
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<DocumentView> {
    const record = await this.unavailableOnError(() => this.documents.get(id));
    if (!record) throw new NotFoundException(`No document ${id}.`);
    const valid = await this.unavailableOnError(() => this.signer.verify(record));
    return toView(record, valid);
  }

  /** Azure errors become a short 503; the detail goes to the log, not to the caller. */
  private async unavailableOnError<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.logger.error({ err: describeAzureError(error) }, 'document store unavailable');
      throw new ServiceUnavailableException(
        'The document store is unavailable; try again shortly.',
      );
    }
  }
}
