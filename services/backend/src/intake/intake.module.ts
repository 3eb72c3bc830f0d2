import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module.js';
import { SigningModule } from '../signing/signing.module.js';
import { DocumentIntakeWorker } from './document-intake.worker.js';

@Module({ imports: [DocumentsModule, SigningModule], providers: [DocumentIntakeWorker] })
export class IntakeModule {}
