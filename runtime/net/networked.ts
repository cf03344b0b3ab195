// NetworkedActiveObject and NetworkedFactory: one mixin over the engine's ActiveObject
// and Factory, delegating everything networked to a MirosNets (one implementation, two
// classes). Constructors do no network I/O; `await chart.startAt(state)` connects.
import { ActiveObject, Factory, type Event, type State } from '../hsm/index.ts';
import { MirosNets, type Lan, type NetworkStats, type NetworkedOptions } from './miros-nets.ts';

type ActiveObjectClass = new (...args: any[]) => ActiveObject;

function Networked<TBase extends ActiveObjectClass>(Base: TBase) {
  return class NetworkedChart extends Base {
    /** The networked layer of this chart (links, receiver, discovery, counters). */
    nets!: MirosNets;

    /** Called once by the concrete constructors (a mixin cannot declare a typed constructor). */
    protected attachNetworks(options: NetworkedOptions): void {
      this.nets = new MirosNets(this, options);
    }

    /** `lan.this.address`, `lan.other.addresses`, `lan.addresses` (filled by startAt). */
    get lan(): Lan {
      return this.nets.lan;
    }

    /** Finds the brokers, joins the enabled networks, then starts the chart. */
    override async startAt(initialState: State): Promise<void> {
      await this.nets.start(() => super.startAt(initialState));
    }

    /** Sends `event` to every other chart on the mesh whose rxRoutingKey matches our txRoutingKey. */
    transmit(event: Event): void {
      this.nets.transmit(event);
    }

    enableSnoopTrace(): void {
      this.nets.enableSnoop('trace', 'color');
    }

    enableSnoopSpy(): void {
      this.nets.enableSnoop('spy', 'color');
    }

    enableSnoopTraceNoColor(): void {
      this.nets.enableSnoop('trace', 'plain');
    }

    enableSnoopSpyNoColor(): void {
      this.nets.enableSnoop('spy', 'plain');
    }

    /** Writes "[ts] [name] # message" to the trace network, else the spy network, else the local spy. */
    snoopScribble(message: string): void {
      this.nets.snoopScribble(message);
    }

    /** amqp://user:pass@IP:5672/%2F?connection_attempts=3&heartbeat_interval=3600 of this host. */
    thisUrl(): string {
      return this.nets.thisUrl();
    }

    otherUrls(): string[] {
      return this.nets.otherUrls();
    }

    /** Counters per network (received, delivered, dropped by reason, duplicates, sent) and per broker. */
    networkStats(): NetworkStats {
      return this.nets.stats();
    }

    /** Stops the chart, then closes every connection (waiting briefly for unconfirmed events). */
    override async stop(): Promise<void> {
      await super.stop();
      await this.nets.stop();
    }
  };
}

/** An ActiveObject on the mesh and snoop networks (miros-rabbitmq's NetworkedActiveObject). */
export class NetworkedActiveObject extends Networked(ActiveObject) {
  constructor(name: string, options: NetworkedOptions = {}) {
    super({ name: requireName(name), maxlen: Infinity });
    this.attachNetworks(options);
  }
}

/** A Factory on the mesh and snoop networks (miros-rabbitmq's NetworkedFactory). */
export class NetworkedFactory extends Networked(Factory) {
  constructor(name: string, options: NetworkedOptions = {}) {
    super({ name: requireName(name), maxlen: Infinity });
    this.attachNetworks(options);
  }
}

// The queue of a networked chart is not a dropping ring buffer (miros's deque of 500):
// the receiver's flow control bounds it instead, so no received event is ever dropped.

/** The chart name is its identity on the networks (queues, self-filter, colours). */
function requireName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError('a networked chart needs a name: new NetworkedActiveObject("name", options)');
  }
  return name;
}
