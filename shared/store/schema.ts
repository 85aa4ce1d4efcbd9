/**
 * Schema migrations, applied in order; PRAGMA user_version holds how many have run.
 * Never edit a released migration: append a new one.
 *
 * Every row that "the newest record wins" keeps the (timestamp, partition, offset)
 * of the record it came from, so the winner does not depend on delivery order.
 */
export const MIGRATIONS: readonly string[] = [
  /* 1 */ `
  CREATE TABLE consumer_offsets (
    consumer   TEXT    NOT NULL,
    topic      TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    last_offset INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (consumer, topic, partition)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE bars (
    symbol    TEXT    NOT NULL,
    interval  TEXT    NOT NULL CHECK (interval IN ('1m', '5m', '1h', '1d')),
    start     INTEGER NOT NULL,
    open      REAL    NOT NULL,
    high      REAL    NOT NULL,
    low       REAL    NOT NULL,
    close     REAL    NOT NULL,
    volume    REAL    NOT NULL,
    -- sum(price * volume); vwap = pv / volume
    pv        REAL    NOT NULL,
    trades    INTEGER NOT NULL,
    open_ts   INTEGER NOT NULL,
    open_partition  INTEGER NOT NULL,
    open_offset     INTEGER NOT NULL,
    close_ts  INTEGER NOT NULL,
    close_partition INTEGER NOT NULL,
    close_offset    INTEGER NOT NULL,
    PRIMARY KEY (symbol, interval, start)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE symbols (
    symbol     TEXT    PRIMARY KEY,
    first_ts   INTEGER NOT NULL,
    last_ts    INTEGER NOT NULL,
    last_price REAL    NOT NULL,
    last_partition INTEGER NOT NULL,
    last_offset    INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE signals (
    id         TEXT    PRIMARY KEY,
    symbol     TEXT    NOT NULL,
    side       TEXT    NOT NULL CHECK (side IN ('BUY', 'SELL')),
    rule       TEXT    NOT NULL,
    price      REAL    NOT NULL,
    bar_time   INTEGER NOT NULL,
    indicators TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX signals_by_bar_time ON signals (bar_time DESC, id DESC);
  CREATE INDEX signals_by_symbol ON signals (symbol, bar_time DESC, id DESC);
  CREATE INDEX signals_by_created ON signals (created_at);

  CREATE TABLE market_data_latest (
    symbol     TEXT    PRIMARY KEY,
    ts         INTEGER NOT NULL,
    market_cap REAL,
    pe_ratio   REAL,
    src_partition INTEGER NOT NULL,
    src_offset    INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE sentiment_latest (
    symbol     TEXT    PRIMARY KEY,
    ts         INTEGER NOT NULL,
    score      REAL    NOT NULL,
    magnitude  REAL    NOT NULL,
    src_partition INTEGER NOT NULL,
    src_offset    INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  -- One reading per (indicator, time); a re-sent reading replaces, never duplicates.
  CREATE TABLE economic_indicators (
    name       TEXT    NOT NULL,
    ts         INTEGER NOT NULL,
    value      REAL    NOT NULL,
    src_partition INTEGER NOT NULL,
    src_offset    INTEGER NOT NULL,
    PRIMARY KEY (name, ts)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE order_book_latest (
    symbol     TEXT    NOT NULL,
    side       TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    ts         INTEGER NOT NULL,
    price      REAL    NOT NULL,
    quantity   REAL    NOT NULL,
    src_partition INTEGER NOT NULL,
    src_offset    INTEGER NOT NULL,
    PRIMARY KEY (symbol, side)
  ) STRICT, WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
