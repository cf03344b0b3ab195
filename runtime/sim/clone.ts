// structuredClone for the small option and header objects every simulated publish and delivery
// copies (amqplib encodes them at once: later changes by the caller do not travel). A plain
// object whose values are primitives or such objects again is copied key by key, which is what
// structuredClone gives for it (own enumerable string keys, in order, onto a plain object);
// anything else goes to structuredClone itself.

function copyPlain(o: object, depth: number): Record<string, unknown> | undefined {
  // deep (or cyclic) objects: structuredClone's business
  if (depth > 8 || Object.getPrototypeOf(o) !== Object.prototype) return undefined;
  const out: Record<string, unknown> = {};
  // for…in: own enumerable string keys here (Object.prototype has no enumerable ones), in order
  for (const k in o) {
    const v = (o as Record<string, unknown>)[k];
    if (v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out[k] = v;
    else if (typeof v === 'object') {
      const inner = copyPlain(v, depth + 1);
      if (inner === undefined) return undefined;
      out[k] = inner;
    } else return undefined; // a function or symbol: structuredClone throws for it
  }
  // a symbol key: structuredClone leaves it out, for…in never sees it; equal either way
  return out;
}

/** A deep copy of `value`, equal to structuredClone(value). */
export function cloneValue<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    const copy = copyPlain(value, 0);
    if (copy !== undefined) return copy as T;
  }
  return structuredClone(value);
}
