/**
 * Describes a JSON value by structure only (key sets and value types), so an
 * emulator-built event can be compared with a documented AWS sample whose
 * values differ.
 */
export type Shape = string | Shape[] | { [key: string]: Shape };

export function shapeOf(value: unknown): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    // Arrays in these events are homogeneous; one element's shape stands for all.
    return value.length === 0 ? [] : [shapeOf(value[0])];
  }
  if (typeof value === 'object') {
    const out: Record<string, Shape> = {};
    for (const key of Object.keys(value as object).sort()) out[key] = shapeOf((value as Record<string, unknown>)[key]);
    return out;
  }
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
