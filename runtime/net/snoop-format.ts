// How a receiving node prints snoop lines: byte-exact to miros-rabbitmq's printers.
//   spy:   " [+s] <name> <spy line>"            trace: " [+t] [<timestamp>] [<name>] <rest>"
// With colour, the sender's name is blue when it is this node and purple otherwise;
// for remote spy lines the reset lands after the space that follows the name, as in
// the reference (its regex captured the first token with its trailing space).
import type { Envelope } from './envelope.ts';
import { SNOOP_SIGNALS } from './topology.ts';

export const ANSI = {
  brightBlack: '\u001b[30;1m',
  blue: '\u001b[34m',
  purple: '\u001b[35m',
  reset: '\u001b[0m',
} as const;

/** The body a node sends for one of its spy lines. */
export function spyBody(name: string, line: string): string {
  return `${name} ${line}`;
}

/** The body of a scribble: "[ts] [name] # message" (the colour is the receiver's business). */
export function scribbleBody(timestamp: string, name: string, message: string): string {
  return `[${timestamp}] [${name}] # ${message}`;
}

export function formatSpy(body: string, sender: string, isLocal: boolean, color: boolean): string {
  if (!color || !body.startsWith(`${sender} `)) return ` [+s] ${body}`;
  const rest = body.slice(sender.length + 1);
  return isLocal
    ? ` [+s] ${ANSI.blue}${sender}${ANSI.reset} ${rest}`
    : ` [+s] ${ANSI.purple}${sender} ${ANSI.reset}${rest}`;
}

export function formatTrace(body: string, sender: string, isLocal: boolean, color: boolean): string {
  const plain = body.replaceAll('\n', '');
  if (!color) return ` [+t] ${plain}`;
  const marker = `] [${sender}] `;
  const at = plain.indexOf(marker);
  if (at < 0) return ` [+t] ${plain}`;
  const paint = isLocal ? ANSI.blue : ANSI.purple;
  const head = plain.slice(0, at + 3);
  const tail = plain.slice(at + 3 + sender.length);
  return ` [+t] ${head}${paint}${sender}${ANSI.reset}${tail}`;
}

/** The line a receiver prints for a message of a snoop network (scribbles included). */
export function formatSnoopLine(
  network: 'trace' | 'spy',
  envelope: Pick<Envelope, 'sender' | 'signal' | 'payload'>,
  isLocal: boolean,
  color: boolean,
): string {
  let body = typeof envelope.payload === 'string' ? envelope.payload : JSON.stringify(envelope.payload);
  if (color && envelope.signal === SNOOP_SIGNALS.scribble) body = colorScribble(body, envelope.sender);
  return network === 'trace' ? formatTrace(body, envelope.sender, isLocal, color) : formatSpy(body, envelope.sender, isLocal, color);
}

/** A scribble arrives as a trace (or spy) body; with colour its "# message" part is grey. */
export function colorScribble(body: string, name: string): string {
  const marker = `[${name}] # `;
  const at = body.indexOf(marker);
  if (at < 0) return body;
  const head = body.slice(0, at + name.length + 3);
  return `${head}${ANSI.brightBlack}${body.slice(at + name.length + 3)}${ANSI.reset}`;
}
