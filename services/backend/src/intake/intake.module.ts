import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module.js';
import { SigningModule } from '../signing/signing.module.js';
import { DocumentIntakeWorker } from './document-intake.worker.js';
import { UploadedBlobReader } from './uploaded-blob.reader.js';

@Module({
  imports: [DocumentsModule, SigningModule],
  providers: [UploadedBlobReader, DocumentIntakeWorker],
})
export class IntakeModule {}
