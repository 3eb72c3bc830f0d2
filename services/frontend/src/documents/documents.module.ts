import { Module } from '@nestjs/common';
import { BackendClient } from './backend-client.js';
import { DocumentsController } from './documents.controller.js';

@Module({
  controllers: [DocumentsController],
  providers: [BackendClient],
  exports: [BackendClient],
})
export class DocumentsModule {}
