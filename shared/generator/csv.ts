/**
 * The replay CSV format: header `symbol,timestamp,open,high,low,close,volume`,
 * timestamp in epoch ms, one bar or trade per line. Written by `--out`, read
 * by `--replay` (and by the replay command).
 */
import { type PriceRecord, validatePriceRecord } from '../schema/records';

export const CSV_COLUMNS = ['symbol', 'timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\n`;

/** Numbers print in their shortest round-trip form, which for on-grid prices is the decimal itself. */
export function toCsvLine(r: PriceRecord): string {
  return `${r.symbol},${r.timestamp},${r.open},${r.high},${r.low},${r.close},${r.volume}\n`;
}

export interface CsvRowError {
  /** 1-based line number in the file. */
  line: number;
  errors: string[];
}

export interface ParsedCsv {
  records: PriceRecord[];
  /** Input line of each record, parallel to records, for error messages downstream. */
  lines: number[];
  errors: CsvRowError[];
}

/**
 * Parses replay CSV. The header may list the seven columns in any order (extra
 * columns are ignored); timestamps may be epoch ms or ISO-8601 with a zone.
 * Each row goes through the ingest validation (same rules, same messages)
 * except the recency window, because these are historical bars.
 */
export function parseReplayCsv(text: string): ParsedCsv {
  const out: ParsedCsv = { records: [], lines: [], errors: [] };
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let headerLine = 0;
  while (headerLine < rows.length && (rows[headerLine] as string).trim() === '') headerLine++;
  if (headerLine >= rows.length) {
    out.errors.push({ line: 1, errors: [`the file is empty; expected a header "${CSV_COLUMNS.join(',')}"`] });
    return out;
  }
  const header = (rows[headerLine] as string).split(',').map((h) => h.trim().toLowerCase());
  const index = CSV_COLUMNS.map((c) => header.indexOf(c));
  const missing = CSV_COLUMNS.filter((_, i) => index[i] === -1);
  if (missing.length > 0) {
    out.errors.push({ line: headerLine + 1, errors: [`header is missing column(s) ${missing.join(', ')}; expected "${CSV_COLUMNS.join(',')}"`] });
    return out;
  }
  for (let i = headerLine + 1; i < rows.length; i++) {
    const raw = rows[i] as string;
    if (raw.trim() === '') continue;
    const cells = raw.split(',');
    if (cells.length < header.length) {
      out.errors.push({ line: i + 1, errors: [`expected ${header.length} fields (${header.join(',')}), got ${cells.length}`] });
      continue;
    }
    const cell = (c: number): string => (cells[index[c] as number] as string).trim();
    const numberCell = (c: number): number | string => (NUMBER_CELL.test(cell(c)) ? Number(cell(c)) : cell(c));
    const candidate = {
      symbol: cell(0),
      timestamp: EPOCH_MS_CELL.test(cell(1)) ? Number(cell(1)) : cell(1),
      open: numberCell(2),
      high: numberCell(3),
      low: numberCell(4),
      close: numberCell(5),
      volume: numberCell(6),
    };
    const checked = validatePriceRecord(candidate, { recencyCheck: false });
    if (!checked.ok) {
      out.errors.push({ line: i + 1, errors: checked.errors.map((e) => e.message) });
      continue;
    }
    out.records.push(checked.value);
    out.lines.push(i + 1);
  }
  return out;
}

const NUMBER_CELL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const EPOCH_MS_CELL = /^\d+(\.\d+)?$/;
