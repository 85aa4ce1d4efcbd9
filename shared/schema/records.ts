/**
 * Market records: the one schema (zod 4) that validates input, gives the
 * TypeScript types and, through z.toJSONSchema(schema, { io: 'input' }), the
 * OpenAPI document.
 *
 * Decisions worth knowing:
 * - Numbers must be JSON numbers. Numeric strings ("12.5") are refused with a
 *   message that says so: silently coercing them would also accept "0x10",
 *   " 12 " and "" (= 0). The CSV reader converts cells itself.
 * - Timestamps are ISO-8601 strings with a date, and a zone when they carry a
 *   time ("2024-05-01T13:30:00Z", "...+02:00"), or epoch milliseconds as a
 *   number (fractions are rounded to the nearest ms). A zone-less time would
 *   be read in the host's local zone, so it is refused rather than guessed.
 * - Prices are capped at MAX_PRICE and volumes at MAX_VOLUME so that window
 *   sums and price*volume sums can never overflow to Infinity.
 * - The recency window (MAX_PAST_MS back, MAX_FUTURE_MS ahead) depends on a
 *   clock, so it is checked by validatePriceRecord / normalizeSeedRecord
 *   against opts.now, not by the static schema.
 * - Unknown keys are dropped. Validation never throws: any input, however
 *   malformed (Proxies, getters that throw, deep nesting), yields FieldErrors.
 */
import { z } from 'zod';

export const SYMBOL_PATTERN = /^[A-Z0-9.-]{1,12}$/;
/** Backfill may be up to 7 days old. */
export const MAX_PAST_MS = 7 * 24 * 60 * 60 * 1000;
/** Clock skew allowance; anything later is refused as a future record. */
export const MAX_FUTURE_MS = 5 * 60 * 1000;
export const MAX_PRICE = 1e12;
export const MAX_VOLUME = 1e15;
export const SEED_DATA_TYPES = ['order_book', 'news_sentiment', 'market_data', 'economic_indicator'] as const;
export type SeedDataType = (typeof SEED_DATA_TYPES)[number];

export type FieldError = { field: string; message: string };
/** Field name used for errors about the record as a whole. */
export const ROOT_FIELD = '(root)';

export interface ValidateOptions {
  /** Reference instant for the recency window; defaults to Date.now(). */
  now?: number;
  /** Set false to skip the recency window (backtests replay history). Default true. */
  recencyCheck?: boolean;
}

// ---------------------------------------------------------------------------
// Message helpers. They describe values without serializing them, so a huge or
// cyclic value cannot blow up the error path.

const NUMERIC_STRING = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function numberTypeMessage(field: string, input: unknown): string {
  if (input === undefined) return `${field} is required`;
  if (typeof input === 'number') return `${field} must be a finite number, got ${describeValue(input)}`;
  if (typeof input === 'string' && NUMERIC_STRING.test(input)) {
    return `${field} must be a JSON number, got ${describeValue(input)} (numeric strings are not converted)`;
  }
  return `${field} must be a number, got ${describeValue(input)}`;
}

function stringTypeMessage(field: string, input: unknown): string {
  if (input === undefined) return `${field} is required`;
  return `${field} must be a string, got ${describeValue(input)}`;
}

// ---------------------------------------------------------------------------
// Field schemas, built per field name so every message names its field.

function finiteNumber(field: string) {
  return z.number({ error: (iss) => numberTypeMessage(field, iss.input) });
}

function priceField(field: string) {
  return finiteNumber(field)
    .gt(0, { error: (iss) => `${field} must be > 0, got ${describeValue(iss.input)}` })
    .lte(MAX_PRICE, { error: (iss) => `${field} must be <= ${MAX_PRICE}, got ${describeValue(iss.input)}` });
}

function quantityField(field: string, opts: { positive: boolean }) {
  const base = opts.positive
    ? finiteNumber(field).gt(0, { error: (iss) => `${field} must be > 0, got ${describeValue(iss.input)}` })
    : finiteNumber(field).gte(0, { error: (iss) => `${field} must be >= 0, got ${describeValue(iss.input)}` });
  return base.lte(MAX_VOLUME, { error: (iss) => `${field} must be <= ${MAX_VOLUME}, got ${describeValue(iss.input)}` });
}

function rangeField(field: string, min: number, max: number) {
  const msg = (iss: { input: unknown }) => `${field} must be between ${min} and ${max}, got ${describeValue(iss.input)}`;
  return finiteNumber(field).gte(min, { error: msg }).lte(max, { error: msg });
}

function symbolField(field: string) {
  return z
    .string({ error: (iss) => stringTypeMessage(field, iss.input) })
    .regex(SYMBOL_PATTERN, {
      error: (iss) => {
        const s = String(iss.input);
        const hint = SYMBOL_PATTERN.test(s.toUpperCase()) ? ' (symbols are uppercase)' : '';
        return `${field} ${quote(s)} must be 1 to 12 characters of A-Z, 0-9, "." or "-"${hint}`;
      },
    });
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Parses an ISO-8601 date or date-time by hand: Date.parse accepts many
 * non-ISO shapes and reads zone-less times in local time, and both would let
 * ambiguous input through.
 */
export function parseIsoTimestamp(text: string): { ok: true; ms: number } | { ok: false; message: string } {
  const m = ISO_PATTERN.exec(text);
  if (!m) return { ok: false, message: 'is not an ISO-8601 date-time (e.g. 2024-05-01T13:30:00Z)' };
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m;
  const year = Number(ys), month = Number(mos), day = Number(ds);
  if (month < 1 || month > 12) return { ok: false, message: `has month ${mos}, expected 01-12` };
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const maxDay = month === 2 && !leap ? 28 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > maxDay) return { ok: false, message: `has day ${ds}, but ${ys}-${mos} has ${maxDay} days` };
  if (hs === undefined) return { ok: true, ms: Date.UTC(year, month - 1, day) };
  if (zone === undefined) return { ok: false, message: 'has a time but no zone; add Z or an offset such as +02:00' };
  const hour = Number(hs), minute = Number(mis), second = ss === undefined ? 0 : Number(ss);
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, message: `has an invalid time ${hs}:${mis}${ss === undefined ? '' : `:${ss}`}` };
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2)), om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return { ok: false, message: `has an invalid zone offset ${zone}` };
    offsetMin = sign * (oh * 60 + om);
  }
  return { ok: true, ms: Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMin * 60_000 };
}

/** unit 'ms' for canonical records, 's' for the seed generator's float seconds. */
function timestampField(field: string, unit: 'ms' | 's') {
  const numberHint = unit === 'ms' ? 'epoch milliseconds' : 'epoch seconds';
  return z
    .union([z.string(), z.number()], {
      error: (iss) => {
        if (iss.input === undefined) return `${field} is required`;
        if (typeof iss.input === 'number') return `${field} must be a finite number, got ${describeValue(iss.input)}`;
        return `${field} must be an ISO-8601 string or ${numberHint} as a number, got ${describeValue(iss.input)}`;
      },
    })
    .transform((value, ctx): number => {
      if (typeof value === 'number') return Math.round(unit === 'ms' ? value : value * 1000);
      if (NUMERIC_STRING.test(value)) {
        ctx.addIssue({ code: 'custom', message: `${field} must be ${numberHint} as a JSON number or an ISO-8601 string, got ${describeValue(value)} (numeric strings are not converted)` });
        return z.NEVER;
      }
      const parsed = parseIsoTimestamp(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: `${field} ${quote(value)} ${parsed.message}` });
        return z.NEVER;
      }
      return parsed.ms;
    });
}

// ---------------------------------------------------------------------------
// Price records.

export type PriceRecord = {
  symbol: string;
  /** Event time, epoch ms (normalized from ISO-8601 or epoch ms). */
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
};

type OhlcNames = { open: string; high: string; low: string; close: string };

function checkOhlc(v: PriceRecord, names: OhlcNames, ctx: { addIssue: (i: { code: 'custom'; path: string[]; message: string }) => void }): void {
  const bodyLow = Math.min(v.open, v.close);
  const bodyHigh = Math.max(v.open, v.close);
  if (v.low > bodyLow) {
    ctx.addIssue({ code: 'custom', path: [names.low], message: `${names.low} (${v.low}) must be <= min(${names.open}, ${names.close}) (${bodyLow})` });
  }
  if (v.high < bodyHigh) {
    ctx.addIssue({ code: 'custom', path: [names.high], message: `${names.high} (${v.high}) must be >= max(${names.open}, ${names.close}) (${bodyHigh})` });
  }
}

const CANONICAL_NAMES: OhlcNames = { open: 'open', high: 'high', low: 'low', close: 'close' };

/** Canonical price record. A trade tick is a record with open = high = low = close. */
export const PriceRecordSchema = z
  .object({
    symbol: symbolField('symbol').meta({ description: 'Ticker: 1-12 of A-Z, 0-9, ".", "-"', examples: ['AAPL', 'BRK.B'] }),
    timestamp: timestampField('timestamp', 'ms').meta({ description: 'Event time: ISO-8601 with zone, or epoch milliseconds' }),
    open: priceField('open'),
    high: priceField('high'),
    low: priceField('low'),
    close: priceField('close'),
    volume: quantityField('volume', { positive: false }),
  })
  .superRefine((v, ctx) => checkOhlc(v, CANONICAL_NAMES, ctx))
  .meta({ id: 'PriceRecord', description: 'OHLCV price record; low <= min(open, close) and max(open, close) <= high' });

// Keeps the hand-written type and the schema in lockstep: a drift fails type checking.
const _priceRecordTypeCheck: z.output<typeof PriceRecordSchema> extends PriceRecord
  ? PriceRecord extends z.output<typeof PriceRecordSchema> ? true : never
  : never = true;
void _priceRecordTypeCheck;

/** The seed generator's price record; timestamp is epoch seconds (float). */
export const SeedPriceRecordSchema = z
  .object({
    stock_symbol: symbolField('stock_symbol'),
    timestamp: timestampField('timestamp', 's'),
    opening_price: priceField('opening_price'),
    high: priceField('high'),
    low: priceField('low'),
    closing_price: priceField('closing_price'),
    volume: quantityField('volume', { positive: false }),
  })
  .transform(
    (s): PriceRecord => ({
      symbol: s.stock_symbol,
      timestamp: s.timestamp,
      open: s.opening_price,
      high: s.high,
      low: s.low,
      close: s.closing_price,
      volume: s.volume,
    }),
  )
  .superRefine((v, ctx) => checkOhlc(v, { open: 'opening_price', high: 'high', low: 'low', close: 'closing_price' }, ctx));

// ---------------------------------------------------------------------------
// Typed records (seed generator), normalized to camelCase with a dataType tag.

export type OrderBookRecord = { dataType: 'order_book'; symbol: string; timestamp: number; orderType: 'buy' | 'sell'; price: number; quantity: number };
export type NewsSentimentRecord = { dataType: 'news_sentiment'; symbol: string; timestamp: number; sentimentScore: number; sentimentMagnitude: number };
export type MarketDataRecord = { dataType: 'market_data'; symbol: string; timestamp: number; marketCap: number; peRatio: number };
export type EconomicIndicatorRecord = { dataType: 'economic_indicator'; indicatorName: string; timestamp: number; value: number };
export type TypedRecord = OrderBookRecord | NewsSentimentRecord | MarketDataRecord | EconomicIndicatorRecord;

function orderTypeField(field: string) {
  return z.enum(['buy', 'sell'], {
    error: (iss) => (iss.input === undefined ? `${field} is required` : `${field} must be "buy" or "sell", got ${describeValue(iss.input)}`),
  });
}

function indicatorNameField(field: string) {
  return z
    .string({ error: (iss) => stringTypeMessage(field, iss.input) })
    .min(1, { error: `${field} must not be empty` })
    .max(64, { error: (iss) => `${field} must be at most 64 characters, got ${String(iss.input).length}` });
}

/** pe_ratio may be negative (a loss-making company), so it is any finite number. */
const PE_LIMIT = 1e9;

/** Seed-format typed records, keyed by data_type. */
export const SeedTypedRecordSchemas = {
  order_book: z
    .object({
      data_type: z.literal('order_book'),
      timestamp: timestampField('timestamp', 's'),
      stock_symbol: symbolField('stock_symbol'),
      order_type: orderTypeField('order_type'),
      price: priceField('price'),
      quantity: quantityField('quantity', { positive: true }),
    })
    .transform((s): OrderBookRecord => ({ dataType: 'order_book', symbol: s.stock_symbol, timestamp: s.timestamp, orderType: s.order_type, price: s.price, quantity: s.quantity })),
  news_sentiment: z
    .object({
      data_type: z.literal('news_sentiment'),
      timestamp: timestampField('timestamp', 's'),
      stock_symbol: symbolField('stock_symbol'),
      sentiment_score: rangeField('sentiment_score', -1, 1),
      sentiment_magnitude: rangeField('sentiment_magnitude', 0, 1),
    })
    .transform((s): NewsSentimentRecord => ({ dataType: 'news_sentiment', symbol: s.stock_symbol, timestamp: s.timestamp, sentimentScore: s.sentiment_score, sentimentMagnitude: s.sentiment_magnitude })),
  market_data: z
    .object({
      data_type: z.literal('market_data'),
      timestamp: timestampField('timestamp', 's'),
      stock_symbol: symbolField('stock_symbol'),
      market_cap: quantityField('market_cap', { positive: true }),
      pe_ratio: rangeField('pe_ratio', -PE_LIMIT, PE_LIMIT),
    })
    .transform((s): MarketDataRecord => ({ dataType: 'market_data', symbol: s.stock_symbol, timestamp: s.timestamp, marketCap: s.market_cap, peRatio: s.pe_ratio })),
  economic_indicator: z
    .object({
      data_type: z.literal('economic_indicator'),
      timestamp: timestampField('timestamp', 's'),
      indicator_name: indicatorNameField('indicator_name'),
      value: finiteNumber('value'),
    })
    .transform((s): EconomicIndicatorRecord => ({ dataType: 'economic_indicator', indicatorName: s.indicator_name, timestamp: s.timestamp, value: s.value })),
} as const;

/** Already-normalized typed records (camelCase, epoch ms), e.g. re-read from a topic. */
export const TypedRecordSchema = z.discriminatedUnion('dataType', [
  z.object({ dataType: z.literal('order_book'), symbol: symbolField('symbol'), timestamp: timestampField('timestamp', 'ms'), orderType: orderTypeField('orderType'), price: priceField('price'), quantity: quantityField('quantity', { positive: true }) }),
  z.object({ dataType: z.literal('news_sentiment'), symbol: symbolField('symbol'), timestamp: timestampField('timestamp', 'ms'), sentimentScore: rangeField('sentimentScore', -1, 1), sentimentMagnitude: rangeField('sentimentMagnitude', 0, 1) }),
  z.object({ dataType: z.literal('market_data'), symbol: symbolField('symbol'), timestamp: timestampField('timestamp', 'ms'), marketCap: quantityField('marketCap', { positive: true }), peRatio: rangeField('peRatio', -PE_LIMIT, PE_LIMIT) }),
  z.object({ dataType: z.literal('economic_indicator'), indicatorName: indicatorNameField('indicatorName'), timestamp: timestampField('timestamp', 'ms'), value: finiteNumber('value') }),
], {
  error: (iss) => (iss.code === 'invalid_union' ? `dataType must be one of ${SEED_DATA_TYPES.join(', ')}` : undefined),
});

// ---------------------------------------------------------------------------
// Entry points. They never throw.

export type PriceValidation = { ok: true; value: PriceRecord } | { ok: false; errors: FieldError[] };
export type SeedNormalization =
  | { ok: true; kind: 'price'; value: PriceRecord }
  | { ok: true; kind: 'typed'; value: TypedRecord }
  | { ok: false; errors: FieldError[] };

function issuesToErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.map((i) => ({ field: i.path.length === 0 ? ROOT_FIELD : i.path.map(String).join('.'), message: i.message }));
}

/** Returns the problem with a timestamp's distance from now, or null if it is inside the window. */
export function checkRecency(timestampMs: number, now: number, field = 'timestamp'): string | null {
  if (timestampMs < now - MAX_PAST_MS) {
    const hint = Math.abs(timestampMs) < 1e11 ? ' (it looks like epoch seconds; epoch milliseconds are expected)' : '';
    return `${field} ${isoOrRaw(timestampMs)} is more than 7 days before now (${isoOrRaw(now)})${hint}`;
  }
  if (timestampMs > now + MAX_FUTURE_MS) {
    return `${field} ${isoOrRaw(timestampMs)} is more than 5 minutes after now (${isoOrRaw(now)})`;
  }
  return null;
}

function isoOrRaw(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function withRecency<T extends { timestamp: number }>(value: T, opts: ValidateOptions | undefined): FieldError[] {
  if (opts?.recencyCheck === false) return [];
  const problem = checkRecency(value.timestamp, opts?.now ?? Date.now());
  return problem === null ? [] : [{ field: 'timestamp', message: problem }];
}

function isPlainRecord(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}

function rootError(input: unknown): FieldError[] {
  return [{ field: ROOT_FIELD, message: `record must be a JSON object, got ${describeValue(input)}` }];
}

function unreadable(err: unknown): FieldError[] {
  return [{ field: ROOT_FIELD, message: `record could not be read: ${err instanceof Error ? err.message : String(err)}` }];
}

export function validatePriceRecord(input: unknown, opts?: ValidateOptions): PriceValidation {
  try {
    if (!isPlainRecord(input)) return { ok: false, errors: rootError(input) };
    const parsed = PriceRecordSchema.safeParse(input);
    if (!parsed.success) return { ok: false, errors: issuesToErrors(parsed.error.issues) };
    const late = withRecency(parsed.data, opts);
    return late.length > 0 ? { ok: false, errors: late } : { ok: true, value: parsed.data };
  } catch (err) {
    return { ok: false, errors: unreadable(err) };
  }
}

/**
 * Accepts a seed-generator record (price or typed, snake_case, epoch seconds),
 * a canonical price record, or an already-normalized typed record, and
 * returns it normalized. The shape is chosen by its keys: data_type, dataType,
 * stock_symbol, otherwise canonical price.
 */
export function normalizeSeedRecord(input: unknown, opts?: ValidateOptions): SeedNormalization {
  try {
    if (!isPlainRecord(input)) return { ok: false, errors: rootError(input) };
    if (Object.hasOwn(input, 'data_type')) {
      const dataType = input.data_type;
      const schema = typeof dataType === 'string' && Object.hasOwn(SeedTypedRecordSchemas, dataType)
        ? SeedTypedRecordSchemas[dataType as SeedDataType]
        : undefined;
      if (!schema) {
        return { ok: false, errors: [{ field: 'data_type', message: `data_type must be one of ${SEED_DATA_TYPES.join(', ')}, got ${describeValue(dataType)}` }] };
      }
      return finishTyped(schema.safeParse(input), opts);
    }
    if (Object.hasOwn(input, 'dataType')) return finishTyped(TypedRecordSchema.safeParse(input), opts);
    if (Object.hasOwn(input, 'stock_symbol')) {
      const parsed = SeedPriceRecordSchema.safeParse(input);
      if (!parsed.success) return { ok: false, errors: issuesToErrors(parsed.error.issues) };
      const late = withRecency(parsed.data, opts);
      return late.length > 0 ? { ok: false, errors: late } : { ok: true, kind: 'price', value: parsed.data };
    }
    const price = validatePriceRecord(input, opts);
    return price.ok ? { ok: true, kind: 'price', value: price.value } : price;
  } catch (err) {
    return { ok: false, errors: unreadable(err) };
  }
}

function finishTyped(parsed: z.ZodSafeParseResult<TypedRecord>, opts: ValidateOptions | undefined): SeedNormalization {
  if (!parsed.success) return { ok: false, errors: issuesToErrors(parsed.error.issues) };
  const late = withRecency(parsed.data, opts);
  return late.length > 0 ? { ok: false, errors: late } : { ok: true, kind: 'typed', value: parsed.data };
}

/** One line for logs and CLI output: "high (99.5) must be >= ...; volume must be >= 0, got -1". */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => e.message).join('; ');
}
