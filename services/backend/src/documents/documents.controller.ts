import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
} from '@nestjs/swagger';
import {
  type DocumentListResponse,
  type DocumentView,
  documentListResponseSchema,
  documentViewSchema,
} from '@wi/contracts';
import { errorResponseSchema } from '../common/http/error-response.schema.js';
import { DOCUMENTS_READ, RequireAppRole } from '../common/decorators/app-role.decorator.js';
import { RecordSigner } from '../signing/record-signer.js';
import { toView } from './document-record.js';
import { DocumentsRepository } from './documents.repository.js';

/**
 * Only callers assigned the API's Documents.Read app role (the frontend's identity). An Azure
 * failure on the way is the global AzureUnavailableFilter's to answer (503).
 */
@Controller('documents')
@RequireAppRole(DOCUMENTS_READ)
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsRepository,
    private readonly signer: RecordSigner,
  ) {}

  @Get()
  @ApiOkResponse({
    description: 'The latest 100 documents',
    standardSchema: documentListResponseSchema,
  })
  async list(): Promise<DocumentListResponse> {
    const records = await this.documents.list();
    return { items: records.map((record) => toView(record)) };
  }

  @Get(':id')
  @ApiParam({ name: 'id', format: 'uuid', description: 'The document id (its upload id)' })
  @ApiOkResponse({
    description: 'The document, and whether its signature verifies',
    standardSchema: documentViewSchema,
  })
  @ApiBadRequestResponse({
    description: 'The id is not a UUID',
    standardSchema: errorResponseSchema,
  })
  @ApiNotFoundResponse({
    description: 'No record of that id (yet)',
    standardSchema: errorResponseSchema,
  })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<DocumentView> {
    const record = await this.documents.get(id);
    if (!record) throw new NotFoundException(`No document ${id}.`);
    const valid = await this.signer.verify(record);
    return toView(record, valid);
  }
}
