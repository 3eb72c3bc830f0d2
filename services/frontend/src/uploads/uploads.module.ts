import { Module } from '@nestjs/common';
import { SessionModule } from '../session/session.module.js';
import { WebModule } from '../web/web.module.js';
import { BlobUploadSink } from './blob-upload.sink.js';
import { DocumentAnnouncer } from './document-announcer.js';
import { UploadsController } from './uploads.controller.js';

@Module({
  imports: [SessionModule, WebModule],
  controllers: [UploadsController],
  providers: [BlobUploadSink, DocumentAnnouncer],
})
export class UploadsModule {}
