import { Module } from '@nestjs/common';
import { IdentityReportModule } from '@wi/azure';
import { DocumentsModule } from '../documents/documents.module.js';
import { IdentityController } from './identity.controller.js';

/** The showcase: the Identity page (docs/forking.md, "Remove the showcase"). */
@Module({
  imports: [IdentityReportModule.forRoot({ service: 'frontend' }), DocumentsModule],
  controllers: [IdentityController],
})
export class IdentityModule {}
