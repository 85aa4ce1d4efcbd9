/** Resolves a function definition and imports its handler module, for the worker and for tests. */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KafkaHandler } from './event-source-mapping';
import { findStreamFunction, type FunctionDefinition } from './functions';
import { describeError } from './logger';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export function loadDefinition(name: string, env: NodeJS.ProcessEnv = process.env): FunctionDefinition {
  const raw = env.LOCAL_RUNTIME_FUNCTION;
  if (!raw) return findStreamFunction(name);
  let def: FunctionDefinition;
  try {
    def = JSON.parse(raw) as FunctionDefinition;
  } catch (err) {
    throw new Error(`LOCAL_RUNTIME_FUNCTION is not valid JSON: ${describeError(err).message}`, { cause: err });
  }
  if (def.name !== name) throw new Error(`LOCAL_RUNTIME_FUNCTION describes "${def.name}", but the worker was started for "${name}"`);
  return def;
}

export async function loadHandler(def: FunctionDefinition): Promise<KafkaHandler> {
  const file = isAbsolute(def.handlerModule) ? def.handlerModule : resolve(REPO_ROOT, def.handlerModule);
  const mod = (await import(pathToFileURL(file).href)) as { handler?: unknown };
  if (typeof mod.handler !== 'function') throw new Error(`${def.handlerModule} does not export a function named "handler"`);
  return mod.handler as KafkaHandler;
}
