import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Req } from '@nestjs/common';
import type { DocumentView } from '@wi/contracts';
import type { Request } from 'express';
import { BackendClient } from '../documents/backend-client.js';
import { BlobUploadSink } from './blob-upload.sink.js';

export type UploadStatus =
  { id: string; status: 'queued' } | { id: string; status: 'processed'; document: DocumentView };

/**
 * What the page polls after an upload. An upload is "queued" while its blob exists and the
 * backend has no record yet; an id with neither is unknown (404). The backend or Blob Storage out
 * of reach is the global AzureUnavailableFilter's to answer (503).
 */
@Controller('api/uploads')
export class UploadStatusController {
  constructor(
    private readonly backend: BackendClient,
    private readonly uploads: BlobUploadSink,
  ) {}

  @Get(':id')
  async status(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() request: Request,
  ): Promise<UploadStatus> {
    const document = await this.backend.get(id, String(request.id));
    if (document) return { id, status: 'processed', document };
    if (await this.uploads.exists(id)) return { id, status: 'queued' };
    throw new NotFoundException(`No upload ${id}.`);
  }
}
