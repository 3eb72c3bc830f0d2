import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { metrics } from '@opentelemetry/api';
import type { IntakeOutcome } from './intake-outcome.js';

const meter = metrics.getMeter('@wi/backend');

/**
 * What someone operating the worker watches: deliveries in, documents out, dead letters (by
 * reason), abandons, how long processing takes, and how often locks had to be renewed. Names
 * follow the OpenTelemetry conventions (dots, unit `s` for durations, low-cardinality
 * attributes): never a document id.
 */
export const intakeMetrics = {
  received: meter.createCounter('intake.messages.received', {
    description: 'document.uploaded deliveries taken by the worker (redeliveries included)',
    unit: '{message}',
  }),
  processed: meter.createCounter('intake.documents.processed', {
    description: 'Documents stored in Cosmos DB and their message completed',
    unit: '{document}',
  }),
  deadLettered: meter.createCounter('intake.documents.dead_lettered', {
    description: 'Messages dead-lettered by the worker, by reason',
    unit: '{message}',
  }),
  abandoned: meter.createCounter('intake.documents.abandoned', {
    description: 'Messages given back for redelivery (transient failure, refused role, lost lock)',
    unit: '{message}',
  }),
  duration: meter.createHistogram('intake.documents.processing.duration', {
    description: 'From receiving a message to settling it, by outcome',
    unit: 's',
    advice: {
      explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    },
  }),
  lockRenewals: meter.createCounter('intake.messages.lock_renewals', {
    description: 'Message lock renewals (by the SDK while a message is processed), by outcome',
    unit: '{renewal}',
  }),
};

export function recordOutcome(
  outcome: IntakeOutcome,
  seconds: number,
  reason: string | undefined,
): void {
  const attributes = { outcome, ...(reason ? { reason } : {}) };
  intakeMetrics.duration.record(seconds, attributes);
  if (outcome === 'completed') intakeMetrics.processed.add(1);
  else if (outcome === 'dead-lettered') intakeMetrics.deadLettered.add(1, attributes);
  else intakeMetrics.abandoned.add(1, attributes);
}

/**
 * Counts lock renewals. The SDK renews a message's lock on its own (maxAutoLockRenewalDurationInMs)
 * and exposes no event for it, but after each successful renewal it assigns the new expiry to
 * `message.lockedUntilUtc` (so does `receiver.renewMessageLock`): observing that assignment counts
 * them. Failed renewals reach processError with errorSource `renewLock`.
 */
export function countLockRenewals(message: ServiceBusReceivedMessage): void {
  let lockedUntilUtc = message.lockedUntilUtc;
  try {
    Object.defineProperty(message, 'lockedUntilUtc', {
      configurable: true,
      enumerable: true,
      get: () => lockedUntilUtc,
      set: (value: Date | undefined) => {
        lockedUntilUtc = value;
        intakeMetrics.lockRenewals.add(1, { outcome: 'success' });
      },
    });
  } catch {
    // A frozen message cannot be observed; the count is a diagnostic, never worth failing for.
  }
}
