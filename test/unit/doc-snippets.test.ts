// The snippet extractor the package test relies on: what counts as a snippet, what the
// markers do, and that no marker can take a block out of typechecking.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allSnippets, extractSnippets, normalizeOutput, SnippetMarkupError } from '../package/snippets.ts';

const fence = '```';
const doc = (...lines: string[]) => lines.join('\n');

describe('extractSnippets', () => {
  it('takes every ts and js block, runnable unless marked no-run, and pairs output blocks', () => {
    const md = doc(
      '# t',
      `${fence}ts`,
      "console.log('a');",
      fence,
      '<!-- snippet: output -->',
      `${fence}text`,
      'a',
      fence,
      '<!-- snippet: no-run (needs brokers) -->',
      `${fence}js`,
      'await connect();',
      fence,
      `${fence}sh`,
      'make cluster',
      fence,
      `${fence}typescript`,
      'const x: number = 1;',
      fence,
    );
    const s = extractSnippets(md, 'x.md');
    expect(s.map((x) => [x.line, x.lang, x.run, x.output])).toEqual([
      [2, 'ts', true, 'a\n'],
      [10, 'js', false, undefined],
      [16, 'ts', true, undefined],
    ]);
    expect(s[0]!.code).toBe("console.log('a');\n");
  });

  it('refuses markers that would skip typechecking, stray markers and orphan outputs', () => {
    expect(() => extractSnippets(doc('<!-- snippet: skip -->', `${fence}ts`, 'x', fence), 'x.md')).toThrow(SnippetMarkupError);
    expect(() => extractSnippets(doc('<!-- snippet: no-run -->', 'prose', `${fence}ts`, 'x', fence), 'x.md')).toThrow(/must be followed by a code block/);
    expect(() => extractSnippets(doc('<!-- snippet: no-run -->', `${fence}sh`, 'x', fence), 'x.md')).toThrow(/not TypeScript or JavaScript/);
    expect(() => extractSnippets(doc('<!-- snippet: output -->', `${fence}text`, 'x', fence), 'x.md')).toThrow(/output block must follow/);
    expect(() => extractSnippets(doc('<!-- snippet: no-run -->', `${fence}ts`, 'x', fence, '<!-- snippet: output -->', `${fence}text`, 'x', fence), 'x.md')).toThrow(/output block must follow/);
    expect(() => extractSnippets(doc(`${fence}ts`, 'x'), 'x.md')).toThrow(/unclosed/);
  });

  it('compares output without the timestamps and trailing blanks', () => {
    expect(normalizeOutput('[2026-11-25 10:43:27.605343] [tour] e->start_at() top->inner  \n\n')).toBe('[<timestamp>] [tour] e->start_at() top->inner');
    expect(normalizeOutput('a\nb')).not.toBe(normalizeOutput('a\nc'));
  });

  it("the repository's README and docs parse, and the README has runnable snippets", () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const snippets = allSnippets(root);
    expect(snippets.filter((s) => s.file === 'README.md' && s.run && s.output !== undefined).length).toBeGreaterThanOrEqual(2);
  });
});
