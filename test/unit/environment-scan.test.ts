// The environment is the one seam for time, timers and randomness: no module of runtime/
// other than runtime/env/environment.ts reads the real clock, sets a real timer or draws
// real randomness. This scans the sources (comments and string contents blanked) and names
// every file:line that does.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const RUNTIME = join(ROOT, 'runtime');
const ENVIRONMENT_MODULE = 'runtime/env/environment.ts';

/** Reads of the real clock, timers and randomness. A method of an object (`env.setTimeout`) is not one. */
const FORBIDDEN: readonly RegExp[] = [
  /\bDate\.now\b/,
  /\bnew\s+Date\s*\(/,
  /\bperformance\.now\b/,
  /\bMath\.random\b/,
  /\b(?:globalThis|global|crypto|timers)\.(?:setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|clearImmediate|randomBytes|randomFillSync|randomUUID|getRandomValues)\b/,
  /(?<![\w.$])(?:setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|clearImmediate|randomBytes|randomFillSync|randomUUID)\b/,
  /from\s+['"](?:node:)?timers(?:\/promises)?['"]/,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The text with comments and the contents of string literals replaced by spaces (line breaks kept). */
export function blankCommentsAndStrings(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') (out += ' '), i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (; i < stop; i++) out += text[i] === '\n' ? '\n' : ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      // strings (template literals: their ${…} parts are code, scanned as code)
      out += c;
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') (out += '  '), (i += 2);
        else if (c === '`' && text[i] === '$' && text[i + 1] === '{') {
          let depth = 0;
          for (; i < text.length; i++) {
            out += text[i];
            if (text[i] === '{') depth++;
            else if (text[i] === '}' && --depth === 0) break;
          }
          i++;
        } else (out += text[i] === '\n' ? '\n' : ' '), i++;
      }
      if (i < text.length) (out += c), i++;
    } else (out += c), i++;
  }
  return out;
}

/** `file:line: text` for each forbidden use outside the environment module. */
export function findRealClockUses(files: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const rel = relative(ROOT, file).split('\\').join('/');
    if (rel === ENVIRONMENT_MODULE) continue;
    const original = readFileSync(file, 'utf8').split('\n');
    blankCommentsAndStrings(readFileSync(file, 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        if (FORBIDDEN.some((re) => re.test(line))) found.push(`${rel}:${i + 1}: ${original[i].trim()}`);
      });
  }
  return found;
}

describe('the environment seam', () => {
  it('no module of runtime/ but the environment reads the real clock, timers or randomness', () => {
    const files = sources(RUNTIME);
    expect(files.length).toBeGreaterThan(40);
    expect(findRealClockUses(files)).toEqual([]);
  });

  it('the scan sees code and ignores comments and strings', () => {
    const code = [
      'const a = Date.now(); // Date.now in a comment',
      "const b = 'setTimeout in a string';",
      '/* Math.random() */ const c = env.setTimeout(f, 1);',
      'const d = `${randomUUID()}`;',
      "import { randomBytes } from 'node:crypto';",
      'const e = new Date(0);',
      'const f = performance.now() + globalThis.setImmediate(g);',
    ].join('\n');
    const lines = blankCommentsAndStrings(code).split('\n');
    const hits = lines.map((line) => FORBIDDEN.some((re) => re.test(line)));
    expect(hits).toEqual([true, false, false, true, true, true, true]);
    expect(lines[0]).not.toContain('comment');
  });
});
