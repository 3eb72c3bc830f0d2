import { Queue } from './queue.js';

export interface ServiceBusQueueOptions {
  name: string;
  maxDeliveryCount?: number;
  lockDurationMs?: number;
}

export interface ServiceBusTopicOptions {
  name: string;
  subscriptions: readonly ServiceBusQueueOptions[];
}

/** The entity a request names, for RBAC: a queue, a topic, or a topic's subscription. */
export interface ServiceBusEntityRef {
  kind: 'queue' | 'topic' | 'subscription';
  /** The queue or topic: what a role assignment is scoped to. */
  name: string;
  subscription?: string;
}

/** What a link address resolves to. */
export interface ResolvedEntity {
  ref: ServiceBusEntityRef;
  /** Where sends go: one queue, or every subscription of a topic. */
  targets: Queue[];
  /** Where receives come from (queues and subscriptions only). */
  source?: Queue;
  subQueue: 'active' | 'deadLetter' | 'transferDeadLetter';
  management: boolean;
}

interface Topic {
  name: string;
  subscriptions: Map<string, Queue>;
}

/**
 * The namespace's entities. Addresses are paths as Service Bus names them: `queue`,
 * `topic/Subscriptions/sub`, each optionally with `/$deadletterqueue` or
 * `/$Transfer/$deadletterqueue` (sub-queues) or `/$management`, absolute (`amqps://host/...`)
 * or not. Names are case-insensitive, as in Service Bus.
 */
export class ServiceBusEntities {
  private readonly queues = new Map<string, Queue>();
  private readonly topics = new Map<string, Topic>();

  constructor(
    queues: readonly ServiceBusQueueOptions[],
    topics: readonly ServiceBusTopicOptions[] = [],
  ) {
    for (const queue of queues)
      this.queues.set(queue.name.toLowerCase(), newQueue(queue.name, queue));
    for (const topic of topics) {
      const subscriptions = new Map<string, Queue>();
      for (const sub of topic.subscriptions) {
        subscriptions.set(
          sub.name.toLowerCase(),
          newQueue(`${topic.name}/Subscriptions/${sub.name}`, sub),
        );
      }
      this.topics.set(topic.name.toLowerCase(), { name: topic.name, subscriptions });
    }
  }

  queue(name: string): Queue | undefined {
    return this.queues.get(name.toLowerCase());
  }

  subscription(topic: string, name: string): Queue | undefined {
    return this.topics.get(topic.toLowerCase())?.subscriptions.get(name.toLowerCase());
  }

  all(): Queue[] {
    return [
      ...this.queues.values(),
      ...[...this.topics.values()].flatMap((t) => [...t.subscriptions.values()]),
    ];
  }

  resolve(address: string): ResolvedEntity | undefined {
    const path = address.replace(/^(amqps?|sb):\/\/[^/]+/i, '').replace(/^\/+/, '');
    const parts = path.split('/');
    let management = false;
    let subQueue: ResolvedEntity['subQueue'] = 'active';
    const last = () => parts.at(-1)?.toLowerCase();
    if (last() === '$management') {
      management = true;
      parts.pop();
    }
    if (last() === '$deadletterqueue') {
      parts.pop();
      subQueue = 'deadLetter';
      if (parts.at(-1)?.toLowerCase() === '$transfer') {
        parts.pop();
        subQueue = 'transferDeadLetter';
      }
    }
    if (parts.some((p) => p === '')) return undefined;
    if (parts.length === 1) {
      const queue = this.queue(parts[0]!);
      if (queue)
        return {
          ref: { kind: 'queue', name: queue.name },
          targets: [queue],
          source: queue,
          subQueue,
          management,
        };
      const topic = this.topics.get(parts[0]!.toLowerCase());
      if (topic && subQueue === 'active') {
        return {
          ref: { kind: 'topic', name: topic.name },
          targets: [...topic.subscriptions.values()],
          subQueue,
          management,
        };
      }
      return undefined;
    }
    if (parts.length === 3 && parts[1]!.toLowerCase() === 'subscriptions') {
      const topic = this.topics.get(parts[0]!.toLowerCase());
      const sub = topic?.subscriptions.get(parts[2]!.toLowerCase());
      if (topic && sub) {
        return {
          ref: { kind: 'subscription', name: topic.name, subscription: parts[2]! },
          targets: [sub],
          source: sub,
          subQueue,
          management,
        };
      }
    }
    return undefined;
  }
}

function newQueue(name: string, options: ServiceBusQueueOptions): Queue {
  return new Queue(name, options.maxDeliveryCount ?? 10, options.lockDurationMs ?? 60_000);
}
