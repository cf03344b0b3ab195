// The TypeScript and JavaScript code blocks of README.md and docs/**/*.md, as the package
// test checks them: every block is typechecked; every block runs unless a marker says it
// needs a cluster; a block's printed output is compared with the `text` block that follows
// it under an output marker. Markers are HTML comments on the line before a fence:
//   <!-- snippet: no-run (why) -->   typechecked, not run (it needs brokers)
//   <!-- snippet: output -->         the fence below is what the previous runnable block prints
// Any other `snippet:` marker is an error, so nothing opts out of typechecking.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Snippet {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'ts' | 'js';
  code: string;
  run: boolean;
  /** What it prints, when the document shows it. */
  output?: string;
}

const LANGS: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js' };
const MARKER = /^<!--\s*snippet:\s*([a-z-]+)\b[^>]*-->\s*$/;

export class SnippetMarkupError extends Error {}

/** The code blocks of one markdown document. */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  let marker: string | undefined;
  let markerLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const m = MARKER.exec(text.trim());
    if (m) {
      if (!['no-run', 'output'].includes(m[1]!)) throw new SnippetMarkupError(`${file}:${i + 1}: unknown marker 'snippet: ${m[1]}' (known: no-run, output)`);
      marker = m[1];
      markerLine = i + 1;
      continue;
    }
    const fence = /^(\s*)(`{3,})\s*([\w-]*)/.exec(text);
    if (!fence) {
      if (text.trim() !== '' && marker) throw new SnippetMarkupError(`${file}:${markerLine}: the marker 'snippet: ${marker}' must be followed by a code block`);
      continue;
    }
    const close = fence[2]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trim().startsWith(close)) body.push(lines[j++]!);
    if (j >= lines.length) throw new SnippetMarkupError(`${file}:${i + 1}: unclosed code block`);
    const lang = LANGS[fence[3]!.toLowerCase()];
    const code = body.join('\n') + '\n';
    if (marker === 'output') {
      const last = snippets.at(-1);
      if (!last || !last.run || last.output !== undefined) {
        throw new SnippetMarkupError(`${file}:${markerLine}: an output block must follow a runnable TypeScript or JavaScript block that has no output block yet`);
      }
      last.output = code;
    } else if (lang) {
      snippets.push({ file, line: i + 1, lang, code, run: marker !== 'no-run' });
    } else if (marker === 'no-run') {
      throw new SnippetMarkupError(`${file}:${markerLine}: 'snippet: no-run' before a block that is not TypeScript or JavaScript`);
    }
    marker = undefined;
    i = j;
  }
  return snippets;
}

/** README.md and every markdown file under docs/, relative to the root. */
export function documentationFiles(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(path.join(dir, d.name)) : d.name.endsWith('.md') ? [path.join(dir, d.name)] : [],
    );
  return ['README.md', ...walk('docs').sort()];
}

export function allSnippets(root: string): Snippet[] {
  return documentationFiles(root).flatMap((f) => extractSnippets(readFileSync(path.join(root, f), 'utf8'), f));
}

/** A file name for a snippet: README.md line 72 → README-md-L72.ts (.mjs for JavaScript). */
export function snippetFileName(s: Snippet): string {
  return `${s.file.replace(/[^A-Za-z0-9]+/g, '-')}-L${s.line}.${s.lang === 'ts' ? 'ts' : 'mjs'}`;
}

/** Printed output as a document shows it: spy/trace timestamps differ run to run. */
export function normalizeOutput(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}/g, '<timestamp>')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
}
