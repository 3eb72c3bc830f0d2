import { Module } from '@nestjs/common';
import { SigningModule } from '../signing/signing.module.js';
import { DocumentsController } from './documents.controller.js';
import { DocumentsRepository } from './documents.repository.js';

@Module({
  imports: [SigningModule],
  controllers: [DocumentsController],
  providers: [DocumentsRepository],
  exports: [DocumentsRepository],
})
export class DocumentsModule {}
