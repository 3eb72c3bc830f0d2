import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Req } from '@nestjs/common';
import type { DocumentListResponse, DocumentView } from '@wi/contracts';
import type { Request } from 'express';
import { BackendClient } from './backend-client.js';

/**
 * The browser's view of the backend API (BFF): same shapes, the backend stays inside the cluster.
 * The backend out of reach is the global AzureUnavailableFilter's to answer (503).
 */
@Controller('api/documents')
export class DocumentsController {
  constructor(private readonly backend: BackendClient) {}

  @Get()
  list(@Req() request: Request): Promise<DocumentListResponse> {
    return this.backend.list(String(request.id));
  }

  @Get(':id')
  async get(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() request: Request,
  ): Promise<DocumentView> {
    const document = await this.backend.get(id, String(request.id));
    if (!document) throw new NotFoundException(`No processed document ${id} (yet).`);
    return document;
  }
}
