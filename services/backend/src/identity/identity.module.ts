import { Module } from '@nestjs/common';
import { IdentityReportModule } from '@wi/azure';
import { IdentityController } from './identity.controller.js';

/** The showcase: the backend's Identity report (docs/forking.md, "Remove the showcase"). */
@Module({
  imports: [IdentityReportModule.forRoot({ service: 'backend' })],
  controllers: [IdentityController],
})
export class IdentityModule {}
