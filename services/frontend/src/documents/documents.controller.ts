import {
  Controller,
  Get,
  Logger,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Req,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { DocumentListResponse, DocumentView } from '@wi/contracts';
import type { Request } from 'express';
import { BackendClient, BackendUnavailableError } from './backend-client.js';

/** The browser's view of the backend API (BFF): same shapes, the backend stays inside the cluster. */
@Controller('api/documents')
export class DocumentsController {
  private readonly logger = new Logger(DocumentsController.name);

  constructor(private readonly backend: BackendClient) {}

  @Get()
  list(@Req() request: Request): Promise<DocumentListResponse> {
    return this.unavailableOnError(() => this.backend.list(String(request.id)));
  }

  @Get(':id')
  async get(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() request: Request,
  ): Promise<DocumentView> {
    const document = await this.unavailableOnError(() => this.backend.get(id, String(request.id)));
    if (!document) throw new NotFoundException(`No processed document ${id} (yet).`);
    return document;
  }

  private async unavailableOnError<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      this.logger.error({ err: error.message }, 'backend unavailable');
      throw new ServiceUnavailableException('The document list is unavailable; try again shortly.');
    }
  }
}
