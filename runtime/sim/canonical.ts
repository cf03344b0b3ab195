// Canonical JSON (every object's keys sorted, no spaces) for the run's hash, written out by hand:
// the same text as JSON.stringify(value, replacer) with a replacer that returns each plain
// object's entries sorted (the definition the hashes were first made with, kept in the tests),
// without building a sorted copy of every object. What JSON.stringify does is kept step by
// step: toJSON(key) first, then the sorting; undefined, functions and symbols left out of
// objects and null in arrays; non-finite numbers null; a BigInt throws. An object's keys come
// out as JSON.stringify orders the sorted copy's: the keys that are array indices first, in
// numeric order (the engine enumerates them so), then the others sorted by UTF-16 code unit.

/** Array-index keys ("0", "7", not "07"; below 2^32 - 1): an object enumerates them first, ascending. */
function isIndexKey(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57) return false;
  if (key.length > 1 && c === 48) return false;
  for (let i = 1; i < key.length; i++) {
    const d = key.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  return key.length < 10 || Number(key) < 4294967295;
}

const byKey = (a: [string, unknown], b: [string, unknown]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** `value` (under `key` of its holder) as canonical JSON, or undefined where JSON.stringify leaves it out. */
function write(value: unknown, key: string): string | undefined {
  let v = value;
  if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') v = (toJSON as (k: string) => unknown).call(v, key);
  }
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out += ',';
          out += write(v[i], String(i)) ?? 'null';
        }
        return `${out}]`;
      }
      const entries = Object.entries(v as Record<string, unknown>).sort(byKey);
      let indices: Array<[string, unknown]> | undefined;
      let out = '{';
      let first = true;
      const member = (k: string, x: unknown) => {
        const text = write(x, k);
        if (text === undefined) return;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${text}`;
        first = false;
      };
      for (const e of entries) if (isIndexKey(e[0])) (indices ??= []).push(e);
      if (indices) {
        indices.sort((a, b) => Number(a[0]) - Number(b[0]));
        for (const [k, x] of indices) member(k, x);
        for (const [k, x] of entries) if (!isIndexKey(k)) member(k, x);
      } else {
        for (const [k, x] of entries) member(k, x);
      }
      return `${out}}`;
    }
    default:
      return undefined; // undefined, a function, a symbol
  }
}

/** JSON with every object's keys sorted: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  return write(value, '') as string;
}
