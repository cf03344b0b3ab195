/**
 * `npm run --silent conformance -- <case.json>`: runs one conformance case and
 * prints the result object as JSON on stdout. A malformed case (unreadable,
 * invalid JSON, unknown state/action, bad guard, impossible topology…) exits 2
 * with a one-line message on stderr.
 */
import { readFileSync } from 'node:fs';
import { HsmTopologyError } from '../../runtime/hsm/event-processor.ts';
import { CaseError, writeCaseJson } from './run-case.ts';

function die(code: number, message: string): never {
  process.stderr.write(`conformance: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(code);
}

const args = process.argv.slice(2).filter((a) => a !== '--');
if (args.length !== 1) die(2, 'usage: conformance <case.json>');
const file = args[0] as string;

let text: string;
try {
  text = readFileSync(file, 'utf8');
} catch (err) {
  die(2, `cannot read ${file}: ${(err as Error).message}`);
}

let raw: unknown;
try {
  raw = JSON.parse(text);
} catch (err) {
  die(2, `${file}: invalid JSON: ${(err as Error).message}`);
}

try {
  // the text in chunks as the steps run (no object graph of every step, no single huge
  // string), written once the case has run through: a case that fails writes nothing on stdout
  // (each chunk encoded at once: bytes outside the JS heap cost the GC nothing)
  const chunks: Buffer[] = [];
  writeCaseJson(raw, (chunk) => chunks.push(Buffer.from(chunk, 'utf8')));
  for (const chunk of chunks) process.stdout.write(chunk);
} catch (err) {
  if (err instanceof CaseError || err instanceof HsmTopologyError) die(2, `${file}: ${err.message}`);
  die(1, `${file}: ${(err as Error).stack ?? String(err)}`);
}
