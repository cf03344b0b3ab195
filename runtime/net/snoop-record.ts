// One structured record per snoop line or mesh event: what distributed.jsonl and the
// per-instance evidence files (<name>.jsonl) hold, one JSON object a line. A record is
// built from the envelope that carried it, so the sender's file and the listener's file
// describe the same message with the same fields (network, sender, host, inc, seq).
//
// Mesh events are mirrored onto the trace network as SNOOP_MESH_SEND / SNOOP_MESH_RECEIVE
// messages under their own routing key (MESH_RECORD_ROUTING_KEY): charts bind only
// snoop.trace, so they (and nodes of older versions) never see them; observers that want
// them bind snoop.trace.# (MESH_RECORD_BINDING).
import { INCARNATION_ID, type Envelope } from './envelope.ts';
import { formatSnoopLine } from './snoop-format.ts';
import { SNOOP_SIGNALS } from './topology.ts';

export const MESH_RECORD_SIGNALS = { send: 'SNOOP_MESH_SEND', receive: 'SNOOP_MESH_RECEIVE' } as const;
export const MESH_RECORD_ROUTING_KEY = 'snoop.trace.mesh';
/** Binding key that gets the trace lines and the mesh records ('#' matches zero or more words). */
export const MESH_RECORD_BINDING = 'snoop.trace.#';

export type RecordKind = 'trace' | 'spy' | 'scribble' | 'mesh-send' | 'mesh-receive' | 'link';

/** A link's change of state (evidence files only, network 'local'): blocked by flow control, down, refused, up again. */
export interface LinkStateRecord {
  broker: string;
  state: string;
  /** The link machine's state (link-machine.ts); absent in files of older nodes. */
  machine?: string;
  /** Why (blocked: the broker's reason, e.g. "low on memory"; down/refused: the error). */
  reason?: string;
  /** The link's resends so far (outbox.ts ResendReason). */
  resent: number;
}

/** Which mesh message a mesh record is about: its sender's identity and stamps. */
export interface MeshEventId {
  sender: string;
  host: string;
  /** The sender's incarnation (null: a node older than the field). */
  inc: number | null;
  /** The sender's incarnation id (envelope iid: random per start); absent from older nodes. */
  iid?: string;
  /** The mesh envelope's per-sender sequence number. */
  seq: number;
  /** The sender's Lamport clock when it transmitted (null: an older node). */
  lamport: number | null;
  signal: string;
}

export interface SnoopRecord {
  /** Network the record travelled on; 'local' = only in the sender's evidence file (its snoop trace was off). */
  network: 'trace' | 'spy' | 'local';
  sender: string;
  host: string;
  /** The sender's incarnation: its sequence base for this start (seq − inc counts 1, 2, 3… per network). */
  inc: number | null;
  /** The sender's incarnation id (envelope iid: random per start, never the clock); absent from older nodes. */
  iid?: string;
  /** Per-sender, per-network sequence number of the envelope (null for 'local' records). */
  seq: number | null;
  /** The sender chart's Lamport clock (null: a node older than the field). */
  lamport: number | null;
  /** Wall time at the sender, ms since the epoch. */
  ts: number;
  kind: RecordKind;
  /** trace: the event's signal; mesh records: the mesh event's signal; else null. */
  signal: string | null;
  /** trace: the states before and after; else null. */
  from: string | null;
  to: string | null;
  /** The line as distributed.log has it (mesh records: " [+m] …", which distributed.log never has). */
  text: string;
  /** mesh-send / mesh-receive: the mesh event. */
  event?: MeshEventId;
  /** link: the link's new state. */
  link?: LinkStateRecord;
}

const TRACE_BODY = /^\[[^\]]*\] \[.*?\] e->(.*)\(\) (\S+)->(\S+)$/;

/** Signal, from and to of a trace line body "[ts] [name] e->SIG() from->to". */
export function parseTraceBody(body: string): { signal: string | null; from: string | null; to: string | null } {
  const m = TRACE_BODY.exec(body.replaceAll('\n', ''));
  return m ? { signal: m[1] as string, from: m[2] as string, to: m[3] as string } : { signal: null, from: null, to: null };
}

export function meshText(kind: 'mesh-send' | 'mesh-receive', sender: string, event: MeshEventId): string {
  const id = event.inc === null ? event.seq : event.seq - event.inc;
  return kind === 'mesh-send'
    ? ` [+m] ${sender} sent ${event.signal} #${id}`
    : ` [+m] ${sender} received ${event.signal} #${id} from ${event.sender}`;
}

function isMeshEventId(v: unknown): v is MeshEventId {
  const o = v as Record<string, unknown> | null;
  return (
    typeof o === 'object' && o !== null &&
    typeof o.sender === 'string' && typeof o.host === 'string' && typeof o.signal === 'string' &&
    Number.isSafeInteger(o.seq) && (o.inc === null || Number.isSafeInteger(o.inc)) && (o.lamport === null || Number.isSafeInteger(o.lamport)) &&
    (o.iid === undefined || (typeof o.iid === 'string' && INCARNATION_ID.test(o.iid)))
  );
}

/**
 * The record of a snoop message (trace or spy network); undefined for a signal it does not
 * know (a newer node's) or a mesh record whose payload is malformed.
 */
export function snoopRecord(network: 'trace' | 'spy', envelope: Envelope): SnoopRecord | undefined {
  const head = {
    network,
    sender: envelope.sender,
    host: envelope.host,
    inc: envelope.inc ?? null,
    ...(envelope.iid !== undefined ? { iid: envelope.iid } : {}),
    seq: envelope.seq,
    lamport: envelope.lc ?? null,
    ts: envelope.ts,
  };
  const none = { signal: null, from: null, to: null };
  switch (envelope.signal) {
    case SNOOP_SIGNALS.trace: {
      const text = formatSnoopLine(network, envelope, false, false);
      return { ...head, kind: network === 'trace' ? 'trace' : 'spy', ...(network === 'trace' ? parseTraceBody(String(envelope.payload)) : none), text };
    }
    case SNOOP_SIGNALS.spy:
      return { ...head, kind: 'spy', ...none, text: formatSnoopLine(network, envelope, false, false) };
    case SNOOP_SIGNALS.scribble:
      return { ...head, kind: 'scribble', ...none, text: formatSnoopLine(network, envelope, false, false) };
    case MESH_RECORD_SIGNALS.send:
    case MESH_RECORD_SIGNALS.receive: {
      const event = (envelope.payload as { event?: unknown } | null)?.event;
      if (!isMeshEventId(event)) return undefined;
      const kind = envelope.signal === MESH_RECORD_SIGNALS.send ? 'mesh-send' : 'mesh-receive';
      return { ...head, kind, signal: event.signal, from: null, to: null, text: meshText(kind, envelope.sender, event), event };
    }
    default:
      return undefined;
  }
}

/** True for the signals that carry a mesh record (they are never printed as snoop lines). */
export function isMeshRecordSignal(signal: string): boolean {
  return signal === MESH_RECORD_SIGNALS.send || signal === MESH_RECORD_SIGNALS.receive;
}
