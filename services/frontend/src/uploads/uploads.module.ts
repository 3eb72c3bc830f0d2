import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module.js';
import { SessionModule } from '../session/session.module.js';
import { WebModule } from '../web/web.module.js';
import { BlobUploadSink } from './blob-upload.sink.js';
import { DocumentAnnouncer } from './document-announcer.js';
import { UploadSlots } from './upload-slots.js';
import { UploadStatusController } from './upload-status.controller.js';
import { UploadsController } from './uploads.controller.js';

@Module({
  imports: [SessionModule, WebModule, DocumentsModule],
  controllers: [UploadsController, UploadStatusController],
  providers: [BlobUploadSink, DocumentAnnouncer, UploadSlots],
})
export class UploadsModule {}
