import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../http/https-server.js';

/** The SDKs ask the gateway for a query plan (the .NET SDK on Linux always, JS for cross-partition). */
export function isQueryPlanRequest(headers: IncomingMessage['headers']): boolean {
  return String(headers['x-ms-cosmos-is-query-plan-request'] ?? '').toLowerCase() === 'true';
}

/** Query features the plan below cannot describe; such a query is refused, never answered wrong. */
const UNPLANNED = /\b(ORDER\s+BY|GROUP\s+BY|DISTINCT|TOP|OFFSET|LIMIT|COUNT|SUM|MIN|MAX|AVG)\b/i;

/**
 * The gateway's query plan for a query the emulator can run as is on every partition key range:
 * no rewriting, no ordering or aggregation for the SDK to do, the whole key range. The emulator
 * keeps one partition key range, so the SDK then sends the query once, as Azure would to a
 * single-partition container.
 */
export async function sendQueryPlan(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let query = '';
  try {
    query = String(
      (JSON.parse(await readBody(req, 256 * 1024)) as { query?: unknown }).query ?? '',
    );
  } catch {
    return sendJson(res, 400, { code: 'BadRequest', message: 'The query body is not valid JSON.' });
  }
  if (UNPLANNED.test(query)) {
    return sendJson(res, 400, {
      code: 'BadRequest',
      message:
        'The local emulator plans only filters and projections: ORDER BY, GROUP BY, DISTINCT, TOP, OFFSET/LIMIT and aggregates are not supported across partitions here.',
    });
  }
  sendJson(res, 200, {
    partitionedQueryExecutionInfoVersion: 2,
    queryInfo: {
      distinctType: 'None',
      top: null,
      offset: null,
      limit: null,
      orderBy: [],
      orderByExpressions: [],
      groupByExpressions: [],
      groupByAliases: [],
      aggregates: [],
      groupByAliasToAggregateType: {},
      rewrittenQuery: '',
      hasSelectValue: false,
      dCountInfo: null,
      hasNonStreamingOrderBy: false,
    },
    queryRanges: [{ min: '', max: 'FF', isMinInclusive: true, isMaxInclusive: false }],
  });
}
