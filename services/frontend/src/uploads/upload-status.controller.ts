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
import type { DocumentView } from '@wi/contracts';
import { describeAzureError } from '@wi/azure';
import type { Request } from 'express';
import { BackendClient } from '../documents/backend-client.js';
import { BlobUploadSink } from './blob-upload.sink.js';

export type UploadStatus =
  { id: string; status: 'queued' } | { id: string; status: 'processed'; document: DocumentView };

/**
 * What the page polls after an upload. An upload is "queued" while its blob exists and the
 * backend has no record yet; an id with neither is unknown (404).
 */
@Controller('api/uploads')
export class UploadStatusController {
  private readonly logger = new Logger(UploadStatusController.name);

  constructor(
    private readonly backend: BackendClient,
    private readonly uploads: BlobUploadSink,
  ) {}

  @Get(':id')
  async status(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() request: Request,
  ): Promise<UploadStatus> {
    try {
      const document = await this.backend.get(id, String(request.id));
      if (document) return { id, status: 'processed', document };
      if (await this.uploads.exists(id)) return { id, status: 'queued' };
    } catch (error) {
      this.logger.error({ err: describeAzureError(error) }, 'upload status unavailable');
      throw new ServiceUnavailableException('The upload status is unavailable; try again shortly.');
    }
    throw new NotFoundException(`No upload ${id}.`);
  }
}
