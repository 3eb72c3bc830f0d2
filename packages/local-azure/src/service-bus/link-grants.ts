import type { Connection } from 'rhea';
import type { AccessTokenClaims } from '../tokens/access-token.js';
import type { ServiceBusEntityRef } from './entities.js';

export type ServiceBusAction = 'send' | 'listen';

/** A CBS token put on a connection, for one resource URI (an entity, or the namespace). */
export interface PutToken {
  audience: string;
  claims: AccessTokenClaims;
  expiresAt: number;
}

/** The tokens put on each connection. Links are authorized against these on every use. */
export class ConnectionTokens {
  private readonly byConnection = new WeakMap<Connection, Map<string, PutToken>>();

  put(connection: Connection, token: PutToken): void {
    let tokens = this.byConnection.get(connection);
    if (!tokens) this.byConnection.set(connection, (tokens = new Map()));
    tokens.set(token.audience, token);
  }

  /** The valid (unexpired) token whose resource URI covers the entity, if any. */
  find(
    connection: Connection,
    entity: ServiceBusEntityRef,
    now = Date.now(),
  ): PutToken | undefined {
    const tokens = this.byConnection.get(connection);
    if (!tokens) return undefined;
    return [...tokens.values()].find((t) => t.expiresAt > now && coversEntity(t.audience, entity));
  }
}

/**
 * A CBS resource URI covers an entity when it names the entity (or the topic of a subscription,
 * or a path under it), or names the whole namespace.
 */
export function coversEntity(audience: string, entity: ServiceBusEntityRef): boolean {
  const path = audience
    .replace(/^(sb|amqps?|https?):\/\/[^/]+/i, '')
    .replace(/^\/+|\/+$/g, '')
    .toLowerCase();
  const first = path.split('/')[0] ?? '';
  return first === '' || first === entity.name.toLowerCase();
}

/** The claim Service Bus names in its denials, for an action. */
export function claimName(action: ServiceBusAction): 'Send' | 'Listen' {
  return action === 'send' ? 'Send' : 'Listen';
}
