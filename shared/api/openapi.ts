import { z } from 'zod';
import { PriceRecordSchema, SeedPriceRecordSchema, SeedTypedRecordSchemas, TypedRecordSchema } from '../schema/records';
import {
  BarPageSchema,
  BarsQuerySchema,
  ErrorSchema,
  HealthSchema,
  MarketOverviewSchema,
  SignalPageSchema,
  SignalsQuerySchema,
  SubscriptionRequestSchema,
  SubscriptionSchema,
  SymbolDetailSchema,
  SymbolListSchema,
} from './schemas';

/**
 * GET /openapi.json: an OpenAPI 3.1 document generated from the same zod schemas
 * that validate requests (so the two cannot drift). OpenAPI 3.1 schemas are JSON
 * Schema 2020-12, which is z.toJSONSchema's default target. Request-side schemas
 * are converted as inputs (what a client sends: strings in a query, ISO or epoch
 * timestamps in a record).
 */

type Json = Record<string, unknown>;

class Components {
  readonly schemas: Record<string, Json> = {};

  /** Converts a zod schema, hoisting its named sub-schemas into components.schemas. */
  schema(schema: z.ZodType): Json {
    const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
    const defs = (js.$defs ?? {}) as Record<string, Json>;
    delete js.$defs;
    delete js.$schema;
    for (const [name, def] of Object.entries(defs)) this.schemas[name] ??= rewriteRefs(def) as Json;
    return rewriteRefs(js) as Json;
  }

  /** Query parameters from a strict object schema: one parameter per property. */
  queryParameters(schema: z.ZodType): Json[] {
    const js = this.schema(schema);
    const props = (js.properties ?? {}) as Record<string, Json>;
    const required = new Set((js.required ?? []) as string[]);
    return Object.entries(props).map(([name, s]) => {
      const { description, ...rest } = s;
      return { name, in: 'query', required: required.has(name), ...(description ? { description } : {}), schema: rest };
    });
  }
}

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = k === '$ref' && typeof x === 'string' ? x.replace(/^#\/\$defs\//, '#/components/schemas/') : rewriteRefs(x);
    }
    return out;
  }
  return v;
}

const jsonContent = (schema: Json) => ({ 'application/json': { schema } });

export function buildOpenApiDocument(opts: { serverUrl?: string } = {}): Json {
  const c = new Components();
  const error = c.schema(ErrorSchema);
  const err = (description: string) => ({ description, content: jsonContent(error) });
  const cachedGet = (summary: string, body: Json, extra: Json = {}) => ({
    summary,
    ...extra,
    parameters: [...((extra.parameters as Json[]) ?? []), { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
    responses: {
      200: {
        description: 'OK',
        headers: { ETag: { schema: { type: 'string' } }, 'Cache-Control': { schema: { type: 'string' } } },
        content: jsonContent(body),
      },
      304: { description: 'Not modified (the ETag matched)' },
      400: err('Invalid parameters, with field-level errors'),
      ...((extra.responses as Json) ?? {}),
      503: err('A backing store is unavailable; retry later'),
    },
  });
  const symbolParam = { name: 'symbol', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9.-]{1,12}$' }, description: 'Ticker symbol (case-insensitive)' };
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9-]{1,100}$' } };
  const auth = [{ apiAuth: [] }];
  const ingestResult = { type: 'object', properties: { accepted: { type: 'integer' }, rejected: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } } } } } } };
  const seedRecord = {
    anyOf: [
      c.schema(PriceRecordSchema),
      c.schema(SeedPriceRecordSchema),
      ...Object.values(SeedTypedRecordSchemas).map((s) => c.schema(s)),
      c.schema(TypedRecordSchema),
    ],
  };

  const paths: Json = {
    '/health': {
      get: {
        summary: 'Liveness of Redis and SQLite',
        responses: {
          200: { description: 'Both stores answer', content: jsonContent(c.schema(HealthSchema)) },
          503: { description: 'A store does not answer', content: jsonContent(c.schema(HealthSchema)) },
        },
      },
    },
    '/symbols': { get: cachedGet('Every known symbol with its latest price, change and indicators', c.schema(SymbolListSchema)) },
    '/symbols/{symbol}': {
      get: cachedGet('Latest values of one symbol', c.schema(SymbolDetailSchema), { parameters: [symbolParam], responses: { 404: err('Unknown symbol') } }),
    },
    '/symbols/{symbol}/bars': {
      get: cachedGet('OHLCV + VWAP bars, cursor-paginated', c.schema(BarPageSchema), {
        parameters: [symbolParam, ...c.queryParameters(BarsQuerySchema)],
        responses: { 404: err('Unknown symbol') },
      }),
    },
    '/signals': { get: cachedGet('Signal history, newest first, cursor-paginated', c.schema(SignalPageSchema), { parameters: c.queryParameters(SignalsQuerySchema) }) },
    '/market/overview': { get: cachedGet('Breadth, movers, most active, signal counts (24 h) and economic indicators', c.schema(MarketOverviewSchema)) },
    '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: jsonContent({ type: 'object' }) } } } },
    '/subscriptions': {
      post: {
        summary: 'Subscribe an endpoint to signals, filtered by symbol and side',
        security: auth,
        requestBody: { required: true, content: jsonContent(c.schema(SubscriptionRequestSchema)) },
        responses: {
          200: { description: 'The same subscription already existed', content: jsonContent(c.schema(SubscriptionSchema)) },
          201: { description: 'Created; email and https endpoints must confirm', headers: { Location: { schema: { type: 'string' } } }, content: jsonContent(c.schema(SubscriptionSchema)) },
          400: err('Invalid body, endpoint or filter (field-level errors)'),
          409: err('The endpoint already has a different subscription, or reached its per-endpoint cap'),
          413: err('Body too large'),
          415: err('Content-Type is not application/json'),
          503: err('SNS unavailable'),
        },
      },
    },
    '/subscriptions/{id}': {
      get: {
        summary: 'One subscription',
        security: auth,
        parameters: [idParam],
        responses: { 200: { description: 'OK', content: jsonContent(c.schema(SubscriptionSchema)) }, 400: err('Malformed id'), 404: err('Unknown subscription') },
      },
      delete: {
        summary: 'Unsubscribe',
        security: auth,
        parameters: [idParam],
        responses: { 204: { description: 'Deleted' }, 400: err('Malformed id'), 404: err('Unknown subscription') },
      },
    },
    '/ticks': {
      post: {
        summary: 'Ingest one price record or up to 1,000 (body up to 1 MB)',
        security: auth,
        requestBody: { required: true, content: jsonContent(c.schema(z.union([PriceRecordSchema, z.array(PriceRecordSchema).max(1000)]))) },
        responses: {
          202: { description: 'Valid records accepted; invalid ones listed by index', content: jsonContent(ingestResult) },
          400: err('Malformed JSON, or every record invalid'),
          413: err('Body too large'),
          415: err('Content-Type is not application/json'),
          503: err('Stream unavailable; retry'),
        },
      },
    },
    '/ingest': {
      post: {
        summary: "One record in the seed generator's format (price or typed)",
        security: auth,
        requestBody: { required: true, content: jsonContent(seedRecord) },
        responses: {
          200: { description: 'Accepted', content: jsonContent({ type: 'object', properties: { accepted: { type: 'integer' }, kind: { type: 'string' }, topic: { type: 'string' } } }) },
          400: err('Invalid record'),
          413: err('Body too large'),
          415: err('Content-Type is not application/json'),
          503: err('Stream unavailable; retry'),
        },
      },
    },
    '/': { get: { summary: 'Dashboard (HTML)', responses: { 200: { description: 'HTML page' } } } },
    // API Gateway's route is /assets/{proxy+}; OpenAPI has no greedy parameters, so it is documented as one segment.
    '/assets/{path}': {
      get: { summary: 'Dashboard assets', parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'Asset' }, 404: err('No such asset') } },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'stock-stream API',
      version: '1.0.0',
      description:
        'Real-time stock analysis: latest values (Redis), history (SQLite) and signal subscriptions (SNS). ' +
        'JSON with camelCase fields and ISO-8601 UTC times; GET responses carry ETag and Cache-Control; errors are {error:{code,message,fields?}}.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    paths,
    components: {
      schemas: c.schemas,
      securitySchemes: { apiAuth: { type: 'http', scheme: 'bearer', description: 'Write routes are authorized at API Gateway (JWT or Lambda authorizer)' } },
    },
  };
}

let cached: Json | undefined;

/** The document is pure and costs a few ms to build, so one copy per process. */
export function openApiDocument(): Json {
  cached ??= buildOpenApiDocument();
  return cached;
}
