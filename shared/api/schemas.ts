import { z } from 'zod';
import { INTERVALS } from '../store/intervals';
import { cursorParam, limitParam, symbolParam, timeParam } from './params';

/**
 * The Query API's contract: request and response schemas in one place. The
 * router validates requests with them, tests check responses against them, and
 * GET /openapi.json is generated from them.
 */

// ---------------------------------------------------------------------------
// Query parameters (strict: unknown parameters are refused).

export const BarsQuerySchema = z.strictObject({
  interval: z
    .enum(INTERVALS, { error: (iss) => `interval must be one of ${INTERVALS.join(', ')}, got ${JSON.stringify(String(iss.input).slice(0, 20))}` })
    .optional()
    .meta({ description: 'Bar interval (default 1m)' }),
  from: timeParam('from', 'Earliest bar start, inclusive'),
  to: timeParam('to', 'Latest bar start, exclusive'),
  limit: limitParam(),
  order: z
    .enum(['asc', 'desc'], { error: 'order must be "asc" or "desc"' })
    .optional()
    .meta({ description: 'asc (default): oldest first; desc: newest first, for "the latest N bars"' }),
  cursor: cursorParam,
});

export const SignalsQuerySchema = z.strictObject({
  symbol: symbolParam('symbol').optional(),
  side: z.enum(['BUY', 'SELL'], { error: 'side must be "BUY" or "SELL"' }).optional().meta({ description: 'BUY or SELL' }),
  rule: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, { error: 'rule must be a rule name such as rsi-threshold or ema-ma-crossover' })
    .optional()
    .meta({ description: 'Rule name, e.g. rsi-threshold or ema-ma-crossover' }),
  since: timeParam('since', 'Only signals whose bar time is at or after this'),
  limit: limitParam(),
  cursor: cursorParam,
});

export const EmptyQuerySchema = z.strictObject({});

// ---------------------------------------------------------------------------
// Responses.

const isoTime = z.iso.datetime().meta({ description: 'ISO-8601 UTC time', examples: ['2024-05-01T13:30:00.000Z'] });
const num = z.number();

export const IndicatorsSchema = z
  .object({ ma: num.nullable(), ema: num.nullable(), rsi: num.nullable() })
  .meta({ id: 'Indicators', description: 'Simple MA, EMA and Wilder RSI of closes; null while warming up' });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error', description: 'Every error body: a code, a message and, for 400s, field-level errors' });

export const SymbolSummarySchema = z
  .object({
    symbol: z.string(),
    lastPrice: num.nullable(),
    lastTimestamp: isoTime.nullable(),
    changePct: num.nullable().meta({ description: 'Change of lastPrice vs the previous daily close (or today\'s open when there is no earlier day), in percent' }),
    indicators: IndicatorsSchema,
  })
  .meta({ id: 'SymbolSummary' });

export const SymbolListSchema = z.object({ items: z.array(SymbolSummarySchema) }).meta({ id: 'SymbolList' });

export const OpenBarSchema = z
  .object({
    time: isoTime,
    open: num, high: num, low: num, close: num, volume: num, vwap: num,
    trades: z.number().int(),
    provisional: IndicatorsSchema,
  })
  .meta({ id: 'OpenBar', description: 'The bar still accumulating, with provisional indicator values (not committed, never fire signals)' });

const quote = z.object({ price: num, quantity: num, timestamp: isoTime });

export const SymbolDetailSchema = z
  .object({
    symbol: z.string(),
    lastPrice: num.nullable(),
    lastTimestamp: isoTime.nullable(),
    changePct: num.nullable(),
    indicators: IndicatorsSchema,
    openBar: OpenBarSchema.nullable(),
    sentiment: z.object({ score: num, magnitude: num, timestamp: isoTime }).nullable(),
    marketData: z.object({ marketCap: num.nullable(), peRatio: num.nullable(), timestamp: isoTime }).nullable(),
    orderBook: z
      .object({ bid: quote.nullable(), ask: quote.nullable() })
      .nullable()
      .meta({ description: 'Latest buy order (bid) and sell order (ask) seen on the stream' }),
  })
  .meta({ id: 'SymbolDetail' });

export const BarSchema = z
  .object({
    time: isoTime.meta({ description: 'Bar start (UTC-aligned)' }),
    open: num, high: num, low: num, close: num, volume: num,
    vwap: num.meta({ description: 'Volume-weighted typical price; the close when the bar has no volume' }),
    trades: z.number().int(),
  })
  .meta({ id: 'Bar' });

export const BarPageSchema = z
  .object({ symbol: z.string(), interval: z.enum(INTERVALS), items: z.array(BarSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'BarPage' });

export const SignalSchema = z
  .object({
    id: z.string(),
    symbol: z.string(),
    side: z.enum(['BUY', 'SELL']),
    rule: z.string(),
    price: num,
    barTime: isoTime,
    indicators: IndicatorsSchema,
    reason: z.string(),
    createdAt: isoTime,
  })
  .meta({ id: 'Signal' });

export const SignalPageSchema = z.object({ items: z.array(SignalSchema), nextCursor: z.string().nullable() }).meta({ id: 'SignalPage' });

const mover = z.object({ symbol: z.string(), lastPrice: num.nullable(), changePct: num });

export const MarketOverviewSchema = z
  .object({
    asOf: isoTime,
    breadth: z.object({ advancers: z.number().int(), decliners: z.number().int(), unchanged: z.number().int() }),
    topGainers: z.array(mover),
    topLosers: z.array(mover),
    mostActive: z.array(z.object({ symbol: z.string(), volume: num, lastPrice: num.nullable(), day: isoTime })),
    signals: z.object({
      since: isoTime,
      total: z.number().int(),
      bySide: z.object({ BUY: z.number().int(), SELL: z.number().int() }),
      byRule: z.record(z.string(), z.number().int()),
    }),
    economicIndicators: z.array(z.object({ name: z.string(), value: num, timestamp: isoTime })),
  })
  .meta({ id: 'MarketOverview' });

const check = z.object({ status: z.enum(['ok', 'empty', 'error']), latencyMs: num, error: z.string().optional() });

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({
      redis: check,
      sqlite: check.extend({ schemaVersion: z.number().int().optional() }),
    }),
  })
  .meta({ id: 'Health' });

// ---------------------------------------------------------------------------
// Subscriptions.

export const PROTOCOLS = ['email', 'sms', 'https', 'sqs'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const SubscriptionRequestSchema = z
  .strictObject({
    protocol: z.enum(PROTOCOLS, { error: (iss) => (iss.input === undefined ? 'protocol is required' : `protocol must be one of ${PROTOCOLS.join(', ')}`) }),
    endpoint: z
      .string({ error: (iss) => (iss.input === undefined ? 'endpoint is required' : 'endpoint must be a string') })
      .min(1, { error: 'endpoint must not be empty' })
      .max(2048, { error: 'endpoint must be at most 2048 characters' })
      .meta({ description: 'email: an address; sms: E.164 (+14155550100); https: a public https URL; sqs: a queue ARN in this deployment\'s account and region' }),
    symbols: z
      .array(symbolParam('symbols'), { error: 'symbols must be an array of ticker symbols' })
      .min(1, { error: 'symbols must list at least one symbol, or be omitted for all symbols' })
      .max(150, { error: 'symbols may list at most 150 symbols' })
      .optional(),
    sides: z
      .array(z.enum(['BUY', 'SELL'], { error: 'sides may contain only "BUY" and "SELL"' }), { error: 'sides must be an array' })
      .min(1, { error: 'sides must list at least one side, or be omitted for both' })
      .max(2)
      .optional(),
  })
  .meta({ id: 'SubscriptionRequest', description: 'Omitted symbols or sides mean "all"' });

export const SubscriptionSchema = z
  .object({
    id: z.string(),
    protocol: z.enum(PROTOCOLS),
    endpoint: z.string(),
    symbols: z.array(z.string()).nullable().meta({ description: 'null: every symbol' }),
    sides: z.array(z.enum(['BUY', 'SELL'])).nullable().meta({ description: 'null: both sides' }),
    status: z.enum(['pending-confirmation', 'confirmed']),
  })
  .meta({ id: 'Subscription' });
