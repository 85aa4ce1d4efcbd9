import { recordVwapPrice } from '../engine/bars';
import { statement, type Db, type Statement } from './db';
import { decodeBatch, DEFAULT_DECODE_TOPICS, type DecodedBatch, type DecodeTopics, type Position, type StreamRecordInput, type Tick } from './decode';
import { INTERVALS, intervalStart, type Interval } from './intervals';

/**
 * The aggregate stage's write path: one SQLite transaction per batch, holding
 * both the rows and the offsets consumed, so a redelivered batch (or one replayed
 * after a crash mid-transaction) changes nothing.
 *
 * Bars are folded record by record in partition order, starting from the stored
 * row. The result is therefore the same however a partition's records are split
 * into batches — including the floating-point sums, whose rounding depends on
 * the order of additions. open/close are chosen by (timestamp, partition, offset),
 * so a late record still lands in its bar and still moves open or close if it
 * belongs there.
 */

export interface Reject extends Position {
  reason: string;
}

export interface ApplyResult {
  /** Records newly applied (including those that were valid but changed nothing, such as a known signal id). */
  applied: number;
  /** Records at or below the stored offset of their partition: already applied by an earlier batch. */
  skipped: number;
  /** Records that failed decoding or validation; their offsets are consumed, the handler dead-letters them. */
  rejected: Reject[];
}

export interface ApplyOptions {
  /** Offsets are kept per consumer, so a second reader of the same topics could share the file. */
  consumer?: string;
  topics?: DecodeTopics;
  now?: () => number;
  /** Runs inside the transaction just before COMMIT; tests throw here to simulate a crash. */
  beforeCommit?: () => void;
}

export const DEFAULT_CONSUMER = 'aggregate';

interface BarRow {
  symbol: string;
  interval: Interval;
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  pv: number;
  trades: number;
  open_ts: number;
  open_partition: number;
  open_offset: number;
  close_ts: number;
  close_partition: number;
  close_offset: number;
}

interface SymbolRow {
  symbol: string;
  first_ts: number;
  last_ts: number;
  last_price: number;
  last_partition: number;
  last_offset: number;
}

/** (timestamp, partition, offset) ordering: a total order over records of one topic. */
function before(ts: number, p: number, o: number, ts2: number, p2: number, o2: number): boolean {
  return ts !== ts2 ? ts < ts2 : p !== p2 ? p < p2 : o < o2;
}

export function foldBar(bar: BarRow | undefined, t: Tick, interval: Interval, p: number, o: number): BarRow {
  // The engine's VWAP price (typical price; the trade price for a tick), so SQLite and Redis bars agree.
  const price = recordVwapPrice(t);
  if (!bar) {
    return {
      symbol: t.symbol, interval, start: intervalStart(t.timestamp, interval),
      open: t.open, high: t.high, low: t.low, close: t.close,
      volume: t.volume, pv: price * t.volume, trades: 1,
      open_ts: t.timestamp, open_partition: p, open_offset: o,
      close_ts: t.timestamp, close_partition: p, close_offset: o,
    };
  }
  if (before(t.timestamp, p, o, bar.open_ts, bar.open_partition, bar.open_offset)) {
    bar.open = t.open;
    bar.open_ts = t.timestamp; bar.open_partition = p; bar.open_offset = o;
  }
  if (before(bar.close_ts, bar.close_partition, bar.close_offset, t.timestamp, p, o)) {
    bar.close = t.close;
    bar.close_ts = t.timestamp; bar.close_partition = p; bar.close_offset = o;
  }
  if (t.high > bar.high) bar.high = t.high;
  if (t.low < bar.low) bar.low = t.low;
  bar.volume += t.volume;
  bar.pv += price * t.volume;
  bar.trades += 1;
  return bar;
}

interface Statements {
  getOffset: Statement<[string, string, number], number>;
  putOffset: Statement<[string, string, number, number, number]>;
  getBar: Statement<[string, string, number], BarRow>;
  putBar: Statement<BarRow[]>;
  getSymbol: Statement<[string], SymbolRow>;
  putSymbol: Statement<SymbolRow[]>;
  putSignal: Statement<unknown[]>;
  putMarketData: Statement<unknown[]>;
  putSentiment: Statement<unknown[]>;
  putEconomic: Statement<unknown[]>;
  putOrderBook: Statement<unknown[]>;
}

/** The batch path's statements, looked up once per connection. */
const cache = new WeakMap<Db, Statements>();

function statements(db: Db): Statements {
  let s = cache.get(db);
  if (s) return s;
  s = {
    getOffset: statement<[string, string, number], number>(db, 'SELECT last_offset FROM consumer_offsets WHERE consumer = ? AND topic = ? AND partition = ?', 'pluck'),
    putOffset: statement(db,
      `INSERT INTO consumer_offsets (consumer, topic, partition, last_offset, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (consumer, topic, partition) DO UPDATE SET last_offset = excluded.last_offset, updated_at = excluded.updated_at`,
    ),
    getBar: statement<[string, string, number], BarRow>(db, 'SELECT * FROM bars WHERE symbol = ? AND interval = ? AND start = ?'),
    putBar: statement<BarRow[]>(db,
      `INSERT OR REPLACE INTO bars (symbol, interval, start, open, high, low, close, volume, pv, trades,
         open_ts, open_partition, open_offset, close_ts, close_partition, close_offset)
       VALUES (@symbol, @interval, @start, @open, @high, @low, @close, @volume, @pv, @trades,
         @open_ts, @open_partition, @open_offset, @close_ts, @close_partition, @close_offset)`,
    ),
    getSymbol: statement<[string], SymbolRow>(db, 'SELECT * FROM symbols WHERE symbol = ?'),
    putSymbol: statement<SymbolRow[]>(db,
      `INSERT OR REPLACE INTO symbols (symbol, first_ts, last_ts, last_price, last_partition, last_offset)
       VALUES (@symbol, @first_ts, @last_ts, @last_price, @last_partition, @last_offset)`,
    ),
    // The id is deterministic (symbol, rule, bar time): a re-published signal is the same signal.
    putSignal: statement(db,
      `INSERT OR IGNORE INTO signals (id, symbol, side, rule, price, bar_time, indicators, reason, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // "Newer wins" by (ts, partition, offset), so the stored row never depends on arrival order.
    putMarketData: statement(db,
      `INSERT INTO market_data_latest (symbol, ts, market_cap, pe_ratio, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (symbol) DO UPDATE SET ts = excluded.ts, market_cap = excluded.market_cap, pe_ratio = excluded.pe_ratio,
         src_partition = excluded.src_partition, src_offset = excluded.src_offset
       WHERE (excluded.ts, excluded.src_partition, excluded.src_offset) > (ts, src_partition, src_offset)`,
    ),
    putSentiment: statement(db,
      `INSERT INTO sentiment_latest (symbol, ts, score, magnitude, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (symbol) DO UPDATE SET ts = excluded.ts, score = excluded.score, magnitude = excluded.magnitude,
         src_partition = excluded.src_partition, src_offset = excluded.src_offset
       WHERE (excluded.ts, excluded.src_partition, excluded.src_offset) > (ts, src_partition, src_offset)`,
    ),
    putEconomic: statement(db,
      `INSERT INTO economic_indicators (name, ts, value, src_partition, src_offset) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name, ts) DO UPDATE SET value = excluded.value, src_partition = excluded.src_partition, src_offset = excluded.src_offset
       WHERE (excluded.src_partition, excluded.src_offset) > (src_partition, src_offset)`,
    ),
    putOrderBook: statement(db,
      `INSERT INTO order_book_latest (symbol, side, ts, price, quantity, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (symbol, side) DO UPDATE SET ts = excluded.ts, price = excluded.price, quantity = excluded.quantity,
         src_partition = excluded.src_partition, src_offset = excluded.src_offset
       WHERE (excluded.ts, excluded.src_partition, excluded.src_offset) > (ts, src_partition, src_offset)`,
    ),
  };
  cache.set(db, s);
  return s;
}

const offsetKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Rejects in `batch` that have not been consumed yet. The handler dead-letters
 * these BEFORE applyBatch commits: if it crashed after the commit instead, the
 * redelivered batch would be skipped and the dead letters lost. A crash between
 * the two only repeats a dead letter, which is harmless.
 */
export function pendingRejects(db: Db, input: readonly StreamRecordInput[] | DecodedBatch, opts: Pick<ApplyOptions, 'consumer' | 'topics'> = {}): Reject[] {
  const batch = toBatch(input, opts.topics);
  const consumer = opts.consumer ?? DEFAULT_CONSUMER;
  const st = statements(db);
  const seen = new Map<string, number>();
  const out: Reject[] = [];
  for (const item of batch.items) {
    const k = offsetKey(item.topic, item.partition);
    const last = seen.get(k) ?? st.getOffset.get(consumer, item.topic, item.partition) ?? -1;
    if (item.offset <= last) continue;
    seen.set(k, item.offset);
    if (!item.ok) out.push({ topic: item.topic, partition: item.partition, offset: item.offset, reason: item.reason });
  }
  return out;
}

function toBatch(input: readonly StreamRecordInput[] | DecodedBatch, topics?: DecodeTopics): DecodedBatch {
  return 'decoded' in input ? input : decodeBatch(input, topics ?? DEFAULT_DECODE_TOPICS);
}

export function applyBatch(db: Db, input: readonly StreamRecordInput[] | DecodedBatch, opts: ApplyOptions = {}): ApplyResult {
  const batch = toBatch(input, opts.topics);
  const consumer = opts.consumer ?? DEFAULT_CONSUMER;
  const now = opts.now ?? Date.now;
  const st = statements(db);

  const run = db.transaction((): ApplyResult => {
    const result: ApplyResult = { applied: 0, skipped: 0, rejected: [] };
    const offsets = new Map<string, { topic: string; partition: number; last: number; dirty: boolean }>();
    const bars = new Map<string, BarRow>();
    const symbols = new Map<string, SymbolRow | null>();

    for (const item of batch.items) {
      const k = offsetKey(item.topic, item.partition);
      let off = offsets.get(k);
      if (!off) {
        off = { topic: item.topic, partition: item.partition, last: st.getOffset.get(consumer, item.topic, item.partition) ?? -1, dirty: false };
        offsets.set(k, off);
      }
      if (item.offset <= off.last) {
        result.skipped++;
        continue;
      }
      off.last = item.offset;
      off.dirty = true;
      if (!item.ok) {
        result.rejected.push({ topic: item.topic, partition: item.partition, offset: item.offset, reason: item.reason });
        continue;
      }
      result.applied++;
      const d = item.data;
      const p = item.partition;
      const o = item.offset;
      switch (d.kind) {
        case 'tick': {
          for (const interval of INTERVALS) {
            const start = intervalStart(d.timestamp, interval);
            const bk = `${d.symbol}\u0000${interval}\u0000${start}`;
            const existing = bars.get(bk) ?? st.getBar.get(d.symbol, interval, start);
            bars.set(bk, foldBar(existing, d, interval, p, o));
          }
          let sym = symbols.get(d.symbol);
          if (sym === undefined) sym = st.getSymbol.get(d.symbol) ?? null;
          if (!sym) {
            sym = { symbol: d.symbol, first_ts: d.timestamp, last_ts: d.timestamp, last_price: d.close, last_partition: p, last_offset: o };
          } else {
            if (d.timestamp < sym.first_ts) sym.first_ts = d.timestamp;
            if (before(sym.last_ts, sym.last_partition, sym.last_offset, d.timestamp, p, o)) {
              sym.last_ts = d.timestamp; sym.last_price = d.close; sym.last_partition = p; sym.last_offset = o;
            }
          }
          symbols.set(d.symbol, sym);
          break;
        }
        case 'signal':
          st.putSignal.run(d.id, d.symbol, d.side, d.rule, d.price, d.barTime, JSON.stringify(d.indicators), d.reason, d.createdAt);
          break;
        case 'event':
          switch (d.dataType) {
            case 'market_data':
              st.putMarketData.run(d.symbol, d.timestamp, d.marketCap ?? null, d.peRatio ?? null, p, o);
              break;
            case 'news_sentiment':
              st.putSentiment.run(d.symbol, d.timestamp, d.sentimentScore, d.sentimentMagnitude, p, o);
              break;
            case 'economic_indicator':
              st.putEconomic.run(d.indicatorName, d.timestamp, d.value, p, o);
              break;
            case 'order_book':
              st.putOrderBook.run(d.symbol, d.orderType, d.timestamp, d.price, d.quantity, p, o);
              break;
          }
          break;
      }
    }

    for (const bar of bars.values()) st.putBar.run(bar);
    for (const sym of symbols.values()) if (sym) st.putSymbol.run(sym);
    const at = now();
    for (const off of offsets.values()) if (off.dirty) st.putOffset.run(consumer, off.topic, off.partition, off.last, at);
    opts.beforeCommit?.();
    return result;
  });
  // IMMEDIATE takes the write lock before the offsets are read, so the check and the write are one atomic step.
  return run.immediate();
}

/** The stored offsets of one consumer, for health checks and tests. */
export function consumedOffsets(db: Db, consumer = DEFAULT_CONSUMER): { topic: string; partition: number; lastOffset: number }[] {
  return statement<[string], { topic: string; partition: number; lastOffset: number }>(db,
      'SELECT topic, partition, last_offset AS lastOffset FROM consumer_offsets WHERE consumer = ? ORDER BY topic, partition',
    )
    .all(consumer);
}
