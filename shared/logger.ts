import { Logger } from '@aws-lambda-powertools/logger';
import { getStringFromEnv } from './config';

/** Structured JSON logs, one logger per process; the service name says which stage wrote the line. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: getStringFromEnv('LOG_LEVEL', { default: 'INFO' }) as 'INFO' });
}
