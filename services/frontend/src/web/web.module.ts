import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module.js';
import { SessionModule } from '../session/session.module.js';
import { AssetsController } from './assets.controller.js';
import { PageController } from './page.controller.js';
import { PageRenderer } from './page.renderer.js';

@Module({
  imports: [DocumentsModule, SessionModule],
  controllers: [PageController, AssetsController],
  providers: [PageRenderer],
  exports: [PageRenderer],
})
export class WebModule {}
