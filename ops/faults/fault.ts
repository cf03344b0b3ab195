// The fault contract (after toxiproxy's toxics): plain-JSON parameters in,
// apply() to inject, heal() to undo. Each fault registers itself by name.

export interface Fault {
  readonly name: string;
  apply(): Promise<void>;
  heal(): Promise<void>;
}

export type FaultFactory<P> = (params: P) => Fault;

const registry = new Map<string, FaultFactory<never>>();

export function register<P>(name: string, factory: FaultFactory<P>): void {
  registry.set(name, factory as FaultFactory<never>);
}

export function createFault<P>(name: string, params: P): Fault {
  const factory = registry.get(name) as FaultFactory<P> | undefined;
  if (!factory) throw new Error(`unknown fault '${name}' (known: ${[...registry.keys()].join(', ')})`);
  return factory(params);
}

export function faultNames(): string[] {
  return [...registry.keys()];
}
