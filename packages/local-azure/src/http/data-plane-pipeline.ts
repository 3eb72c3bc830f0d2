import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthorizationDecision } from '../authorization/decision.js';
import {
  MalformedRequestTarget,
  parseRequestTarget,
  type ParsedRequestTarget,
} from './request-path.js';

/** A refusal in the plane's own dialect: status, body and headers as that Azure service sends them. */
export class PlaneRefusal extends Error {
  constructor(readonly send: (res: ServerResponse) => void) {
    super('refused');
    this.name = 'PlaneRefusal';
  }
}

/**
 * One HTTP data plane, as four required steps. There is no default: a plane that cannot name
 * the decision for a request refuses it, and what `serve` acts on is the target `map` returned,
 * which is what `authorize` decided on.
 */
export interface DataPlane<Principal, Target> {
  /** Verifies the caller (bearer token); throws a PlaneRefusal (401) when it cannot. */
  authenticate(req: IncomingMessage): Principal | Promise<Principal>;
  /** The resource kind, data action and scope of the request; throws a PlaneRefusal (400/404/405). */
  map(
    req: IncomingMessage,
    target: ParsedRequestTarget,
    principal: Principal,
  ): Target | Promise<Target>;
  authorize(principal: Principal, target: Target): AuthorizationDecision;
  /** The plane's 403 for a denied decision. */
  forbidden(principal: Principal, target: Target, reason: string): PlaneRefusal;
  /** The plane's 400 for a request target that does not parse. */
  malformed(message: string): PlaneRefusal;
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    principal: Principal,
    target: Target,
  ): Promise<void> | void;
}

/** The request listener of a plane: authenticate → map → decide → serve, refusals in its dialect. */
export function dataPlaneHandler<Principal, Target>(plane: DataPlane<Principal, Target>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const principal = await plane.authenticate(req);
      let parsed: ParsedRequestTarget;
      try {
        parsed = parseRequestTarget(req.url);
      } catch (error) {
        if (error instanceof MalformedRequestTarget) throw plane.malformed(error.message);
        throw error;
      }
      const target = await plane.map(req, parsed, principal);
      const decision = plane.authorize(principal, target);
      if (!decision.allowed) throw plane.forbidden(principal, target, decision.message);
      await plane.serve(req, res, principal, target);
    } catch (error) {
      if (!(error instanceof PlaneRefusal)) throw error;
      req.resume();
      if (res.headersSent) res.destroy();
      else error.send(res);
    }
  };
}
