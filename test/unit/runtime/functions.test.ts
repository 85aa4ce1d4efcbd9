import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConcurrencyGate, EsmConfigError, resolveMappingOptions } from '../../../local/runtime/event-source-mapping';
import { loadDefinition, REPO_ROOT } from '../../../local/runtime/function-loader';
import { findStreamFunction, httpFunctions, streamFunctions } from '../../../local/runtime/functions';
import { compileRoutes } from '../../../local/runtime/http-adapter';
import { TOPICS } from '../../../shared/config';

describe('function table', () => {
  it('wires each stream function to the topics of the pipeline contract, one topic per mapping as AWS requires', () => {
    const topicsOf = (name: string): string[] => findStreamFunction(name).eventSources.flatMap((s) => s.topics);
    expect(topicsOf('process')).toEqual([TOPICS.ticks]);
    expect(topicsOf('signal')).toEqual([TOPICS.indicators]);
    expect(topicsOf('notify')).toEqual([TOPICS.signals]);
    expect(topicsOf('aggregate').sort()).toEqual([TOPICS.events, TOPICS.signals, TOPICS.ticks].sort());
    for (const fn of streamFunctions()) for (const source of fn.eventSources) expect(source.topics).toHaveLength(1);
    expect(findStreamFunction('aggregate').reservedConcurrency).toBe(1);
  });

  it('points at handler files that exist', () => {
    for (const fn of [...streamFunctions(), ...httpFunctions()]) expect(existsSync(resolve(REPO_ROOT, fn.handlerModule))).toBe(true);
  });

  it('has valid, distinct HTTP route keys', () => {
    expect(() => compileRoutes(httpFunctions().flatMap((f) => f.routes.map((routeKey) => ({ routeKey, handler: () => undefined }))))).not.toThrow();
  });

  it('gives every mapping settings CreateEventSourceMapping would accept', () => {
    for (const fn of streamFunctions()) {
      for (const source of fn.eventSources) {
        expect(() => resolveMappingOptions({ ...source, functionName: fn.name, handler: () => undefined })).not.toThrow();
      }
    }
  });

  it('names an unknown function and lists the known ones', () => {
    expect(() => findStreamFunction('nope')).toThrow('Unknown stream function "nope"; known: process, signal, notify, aggregate');
  });
});

describe('loadDefinition', () => {
  it('prefers the JSON definition handed down by the supervisor', () => {
    const def = { name: 'x', handlerModule: 'a.ts', eventSources: [], timeoutMs: 1 };
    expect(loadDefinition('x', { LOCAL_RUNTIME_FUNCTION: JSON.stringify(def) })).toEqual(def);
  });
  it('rejects a definition for another function or broken JSON', () => {
    expect(() => loadDefinition('y', { LOCAL_RUNTIME_FUNCTION: '{"name":"x"}' })).toThrow('describes "x", but the worker was started for "y"');
    expect(() => loadDefinition('y', { LOCAL_RUNTIME_FUNCTION: '{' })).toThrow('LOCAL_RUNTIME_FUNCTION is not valid JSON');
  });
});

describe('resolveMappingOptions', () => {
  const base = { functionName: 'fn', topics: ['t'], handler: () => undefined };
  it('applies the AWS defaults, capping infinite retries at 10 when an on-failure destination is set', () => {
    expect(resolveMappingOptions(base)).toMatchObject({ batchSize: 100, maxBatchingWindowMs: 500, maxRetries: 10, onFailureTopic: TOPICS.deadLetter, startingPosition: 'TRIM_HORIZON', groupId: 'lambda-fn-t' });
    expect(resolveMappingOptions({ ...base, onFailureTopic: null }).maxRetries).toBe(-1);
  });
  it.each([
    [{ batchSize: 0 }, 'batchSize must be an integer in 1..10000, got 0'],
    [{ batchSize: 10_001 }, 'batchSize must be an integer in 1..10000'],
    [{ maxBatchingWindowMs: 300_001 }, 'maxBatchingWindowMs must be an integer in 0..300000'],
    [{ maxRetries: -2 }, 'maxRetries must be an integer in -1..10000'],
    [{ topics: [] }, 'topics must be a non-empty array'],
    [{ functionName: 'has space' }, 'functionName must be 1-64 letters'],
    [{ onFailureTopic: 't' }, 'is also a source topic'],
    [{ startingPosition: 'AT_TIMESTAMP' }, 'startingPosition must be TRIM_HORIZON or LATEST'],
  ])('rejects %j', (over, message) => {
    expect(() => resolveMappingOptions({ ...base, ...(over as object) })).toThrow(EsmConfigError);
    expect(() => resolveMappingOptions({ ...base, ...(over as object) })).toThrow(message);
  });
});

describe('ConcurrencyGate', () => {
  it('never lets more than its limit run at once', async () => {
    const gate = new ConcurrencyGate(2);
    let active = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 8 }, () => gate.run(async () => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    })));
    expect(peak).toBe(2);
  });
});
