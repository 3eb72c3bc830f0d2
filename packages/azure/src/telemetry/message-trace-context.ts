import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import {
  type Attributes,
  type Link,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';

/**
 * The application property in which the Service Bus SDK's own instrumentation carries the
 * sender's W3C trace context (`traceparent` format): set on every message it sends while
 * OpenTelemetry is active. `traceparent` itself is also accepted, for senders that use it.
 */
export const SERVICE_BUS_TRACEPARENT_PROPERTIES = ['Diagnostic-Id', 'traceparent'] as const;

const tracer = trace.getTracer('@wi/azure');

/**
 * Runs `work` inside a consumer span whose parent is the trace context the message carries, so
 * processing continues the sender's trace: one upload is one trace, from the frontend's request
 * to the backend's Cosmos DB upsert. The Service Bus SDK's own processing span starts a new trace
 * and only links to the sender; this span links back to it, and every Blob, Key Vault, Cosmos DB
 * and settlement span of the work becomes its child.
 */
export async function withMessageTraceContext<T>(
  message: Pick<
    ServiceBusReceivedMessage,
    'applicationProperties' | 'messageId' | 'deliveryCount' | 'enqueuedTimeUtc'
  >,
  queue: string,
  work: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, traceCarrier(message));
  const receiving = trace.getActiveSpan()?.spanContext();
  const links: Link[] = receiving ? [{ context: receiving }] : [];
  const attributes: Attributes = {
    'messaging.system': 'servicebus',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': queue,
    'messaging.message.id': String(message.messageId ?? ''),
    'messaging.servicebus.message.delivery_count': message.deliveryCount ?? 0,
  };
  if (message.enqueuedTimeUtc)
    attributes['messaging.servicebus.message.enqueued_time'] = message.enqueuedTimeUtc.getTime();
  const span = tracer.startSpan(
    `process ${queue}`,
    { kind: SpanKind.CONSUMER, links, attributes },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

function traceCarrier(message: Pick<ServiceBusReceivedMessage, 'applicationProperties'>) {
  const properties = message.applicationProperties ?? {};
  const traceparent = SERVICE_BUS_TRACEPARENT_PROPERTIES.map((name) => properties[name]).find(
    (value): value is string => typeof value === 'string',
  );
  const tracestate = properties.tracestate;
  return {
    ...(traceparent ? { traceparent } : {}),
    ...(typeof tracestate === 'string' ? { tracestate } : {}),
  };
}
