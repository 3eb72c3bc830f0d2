import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module.js';
import { IdentityController } from './identity.controller.js';

@Module({ imports: [DocumentsModule], controllers: [IdentityController] })
export class IdentityModule {}
