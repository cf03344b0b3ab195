// Every relative link of README.md and docs/**/*.md points at a file of the repository, and
// every #anchor at a heading of its target (GitHub's slugs). External links are not fetched.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentationFiles } from '../package/snippets.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** [text](target) and ![alt](target) outside code blocks and code spans. */
function links(markdown: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  let inFence = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) return;
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) out.push({ line: i + 1, target: m[1]! });
  });
  return out;
}

describe('documentation links', () => {
  it('slugs like GitHub', () => {
    expect(slug("One RabbitMQ cluster instead of a broker per host: `topology: 'clustered'`")).toBe('one-rabbitmq-cluster-instead-of-a-broker-per-host-topology-clustered');
    expect(slug('A statechart in 20 lines')).toBe('a-statechart-in-20-lines');
  });

  it('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    for (const file of documentationFiles(root)) {
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const { line, target } of links(text)) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [rel, anchor] = target.split('#') as [string, string | undefined];
        const dest = rel ? path.join(path.dirname(path.join(root, file)), rel) : path.join(root, file);
        if (!existsSync(dest)) {
          broken.push(`${file}:${line}: ${target} (no such file)`);
          continue;
        }
        if (anchor && statSync(dest).isFile() && dest.endsWith('.md') && !anchors(readFileSync(dest, 'utf8')).has(anchor)) {
          broken.push(`${file}:${line}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
