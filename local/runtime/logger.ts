/**
 * The small logging surface the runtime needs. Powertools' Logger satisfies it,
 * so a caller can pass one in; the default prints one line per entry.
 */
export interface RuntimeLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function levelFromEnv(): LogLevel {
  const raw = (process.env.RUNTIME_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info').toLowerCase();
  return raw in ORDER ? (raw as LogLevel) : 'info';
}

export function createConsoleLogger(scope: string, level: LogLevel = levelFromEnv()): RuntimeLogger {
  const emit = (lvl: Exclude<LogLevel, 'silent'>, message: string, extra?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const tail = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
    const line = `${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${scope}: ${message}${tail}`;
    if (lvl === 'error' || lvl === 'warn') console.error(line);
    else console.log(line);
  };
  return {
    debug: (m, e) => emit('debug', m, e),
    info: (m, e) => emit('info', m, e),
    warn: (m, e) => emit('warn', m, e),
    error: (m, e) => emit('error', m, e),
  };
}

export const silentLogger: RuntimeLogger = { debug() {}, info() {}, warn() {}, error() {} };

export function describeError(err: unknown): { type: string; message: string } {
  if (err instanceof Error) return { type: err.name || 'Error', message: err.message };
  return { type: typeof err, message: String(err) };
}
