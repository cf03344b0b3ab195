// Two networked charts on two brokers of `make cluster`, talking over the mesh and
// printing the snoop trace of both. Run: npx tsx examples/networked.ts
import { Event, NetworkedActiveObject, ReturnStatus, generateKey, signals } from '../runtime/index.ts';
import { readClusterFile } from '../runtime/lan/index.ts';

const [h1, h2] = readClusterFile('.cluster/cluster.json').nodes.map((n) => n.host);
const meshEncryptionKey = process.env.MESH_ENCRYPTION_KEY ?? generateKey();

function waiting(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  if (e.signal === signals.PING) {
    chart.snoopScribble(`got ${JSON.stringify(e.payload)}`);
    return chart.trans(answering);
  }
  return chart.super(chart.top);
}

function answering(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  if (e.signal === signals.ENTRY_SIGNAL) {
    chart.transmit(new Event('PONG', { from: chart.name }));
    return ReturnStatus.HANDLED;
  }
  if (e.signal === signals.PONG) return chart.trans(waiting);
  return chart.super(waiting);
}

const options = { rabbitUser: 'peter', rabbitPassword: 'rabbit', meshEncryptionKey, txRoutingKey: 'heya.man', rxRoutingKey: '#.man', hosts: [h1, h2] };
const alice = new NetworkedActiveObject('alice', { ...options, thisAddress: h1 });
const bob = new NetworkedActiveObject('bob', { ...options, thisAddress: h2 });
alice.enableSnoopTrace();
bob.enableSnoopTrace();
await Promise.all([alice.startAt(waiting), bob.startAt(waiting)]);
console.log(`alice: ${alice.thisUrl()}  others: ${alice.otherUrls().join(', ')}`);
alice.transmit(new Event('PING', { n: 1 })); // bob gets it (alice never gets her own)
await new Promise((r) => setTimeout(r, 1000));
console.log(alice.networkStats().mesh);
await Promise.all([alice.stop(), bob.stop()]);
