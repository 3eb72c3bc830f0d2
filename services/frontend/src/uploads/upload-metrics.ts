import { metrics } from '@opentelemetry/api';

const meter = metrics.getMeter('@wi/frontend');

/** Uploads stored in Blob Storage and announced on the queue, and uploads refused, by status. */
export const uploadMetrics = {
  received: meter.createCounter('intake.documents.received', {
    description: 'Documents uploaded, stored in Blob Storage and announced on the queue',
    unit: '{document}',
  }),
  refused: meter.createCounter('intake.uploads.refused', {
    description: 'Uploads answered with an error (403, 413, 415, 400, 503), by status',
    unit: '{upload}',
  }),
  bytes: meter.createHistogram('intake.documents.size', {
    description: 'Size of the documents received',
    unit: 'By',
    advice: {
      explicitBucketBoundaries: [1_024, 16_384, 131_072, 1_048_576, 4_194_304, 10_485_760],
    },
  }),
};
