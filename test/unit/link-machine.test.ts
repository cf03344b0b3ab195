// The link machine (link-machine.ts), transition by transition: first the table itself, every
// state under every input; then a BrokerLink on the fake recovering connection (fake-amqp.ts),
// driven by amqplib's events, showing each move in snapshot().machine, in the public state,
// and in what onState tells (the evidence file's link records).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokerLink } from '../../runtime/net/broker-link.ts';
import { SharedConnection } from '../../runtime/net/shared-connection.ts';
import { LINK_TRANSITIONS, LinkMachine, publicState, type LinkInput, type LinkMachineState } from '../../runtime/net/link-machine.ts';
import { fakeBrokers, type FakeConnection } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));

const STATES: LinkMachineState[] = ['idle', 'connecting', 'up', 'blocked', 'backoff', 'failed', 'closed'];
const INPUTS: LinkInput[] = ['open', 'connect', 'fail', 'refuse', 'disconnect', 'block', 'unblock', 'close'];

// state → input → next state ('-': ignored). Written out in full, so a change of the table shows here.
const EXPECTED: Record<LinkMachineState, string> = {
  //          open        connect  fail        refuse    disconnect  block      unblock  close
  idle: '     connecting  -        -           -         -           -          -        closed',
  connecting: '-          up       connecting  failed    backoff     -          -        closed',
  up: '       -           -        -           -         backoff     blocked    -        closed',
  blocked: '  -           -        backoff     failed    backoff     -          up       closed',
  backoff: '  -           up       backoff     failed    -           -          -        closed',
  failed: '   -           -        -           -         -           -          -        closed',
  closed: '   -           -        -           -         -           -          -        -',
};

/** A machine brought to `state` by the shortest way from idle. */
function machineIn(state: LinkMachineState): LinkMachine {
  const paths: Record<LinkMachineState, LinkInput[]> = {
    idle: [],
    connecting: ['open'],
    up: ['open', 'connect'],
    blocked: ['open', 'connect', 'block'],
    backoff: ['open', 'connect', 'disconnect'],
    failed: ['open', 'refuse'],
    closed: ['close'],
  };
  const m = new LinkMachine();
  for (const input of paths[state]) expect(m.fire(input)).toBeDefined();
  expect(m.state).toBe(state);
  return m;
}

describe('the link machine: its table', () => {
  for (const state of STATES) {
    const row = EXPECTED[state].trim().split(/\s+/);
    for (const [i, input] of INPUTS.entries()) {
      const want = row[i] === '-' ? undefined : (row[i] as LinkMachineState);
      it(`${state} --${input}--> ${want ?? '(ignored)'}`, () => {
        const m = machineIn(state);
        expect(LINK_TRANSITIONS[state][input]).toBe(want);
        expect(m.fire(input)).toBe(want === undefined ? undefined : state);
        expect(m.state).toBe(want ?? state);
      });
    }
  }

  it('names every state publicly as before the machine', () => {
    expect(STATES.map(publicState)).toEqual(['connecting', 'connecting', 'up', 'blocked', 'down', 'refused', 'closed']);
  });
});

describe('the link machine: a BrokerLink on the fake connection', () => {
  beforeEach(() => fakeBrokers.reset());
  afterEach(() => fakeBrokers.reset());

  function link(urls = ['amqp://u:p@10.0.0.9:5672/%2F']) {
    const told: string[] = [];
    const l = new BrokerLink({ urls, label: 'amqp://u:***@10.0.0.9:5672/%2F', heartbeat: 0, outboxBound: 10 });
    l.onState((state, reason) => told.push(reason ? `${state} (${reason})` : state));
    const at = () => [l.snapshot().machine, l.snapshot().state];
    return { l, told, at };
  }

  it('idle, connecting, up, blocked, up, backoff, backoff, up, closed: each move driven by its amqplib event', async () => {
    const { l, told, at } = link();
    expect(at()).toEqual(['idle', 'connecting']);
    await l.open();
    const connection: FakeConnection = fakeBrokers.connections.at(-1)!;
    expect(at()).toEqual(['connecting', 'connecting']);
    connection.fail(new Error('connect ECONNREFUSED'));
    expect(at()).toEqual(['connecting', 'connecting']);
    await connection.connect();
    expect(at()).toEqual(['up', 'up']);
    connection.emit('blocked', 'low on memory');
    expect(at()).toEqual(['blocked', 'blocked']);
    connection.emit('unblocked');
    expect(at()).toEqual(['up', 'up']);
    connection.lose();
    expect(at()).toEqual(['backoff', 'down']);
    connection.fail(new Error('connect ECONNREFUSED'));
    expect(at()).toEqual(['backoff', 'down']);
    await connection.connect();
    expect(at()).toEqual(['up', 'up']);
    expect(l.snapshot()).toMatchObject({ reconnects: 1, failedAttempts: 2 });
    await l.close(0);
    expect(at()).toEqual(['closed', 'closed']);
    expect(told.map((t) => t.split(' ')[0])).toEqual(['up', 'blocked', 'up', 'down', 'up', 'closed']);
    expect(told[1]).toBe('blocked (low on memory)');
  });

  it('a block heard before the connect applies once up; a drop while blocked goes to backoff', async () => {
    const { l, at } = link();
    await l.open();
    const connection = fakeBrokers.connections.at(-1)!;
    connection.emit('blocked', 'low on disk');
    expect(at()).toEqual(['connecting', 'connecting']);
    await connection.connect();
    expect(at()).toEqual(['blocked', 'blocked']);
    connection.lose();
    expect(at()).toEqual(['backoff', 'down']);
    expect(l.snapshot().blocked).toMatchObject({ count: 1 });
    await l.close(0);
  });

  it('every member refusing fails the link for good: a later connect is ignored, close still closes', async () => {
    const { l, told, at } = link(['amqp://u:p@10.0.0.1:5672/%2F', 'amqp://u:p@10.0.0.2:5672/%2F']);
    await l.open();
    const connection = fakeBrokers.connections.at(-1)!;
    const refusal = () => new Error('Connection closed: 530 (NOT-ALLOWED) with message "NOT_ALLOWED - vhost x not found"');
    connection.fail(refusal());
    expect(at()).toEqual(['connecting', 'connecting']); // one member refused: failover
    connection.fail(refusal());
    expect(at()).toEqual(['failed', 'refused']);
    await expect(l.whenSettled(1000)).resolves.toBe('refused');
    await l.close(0);
    expect(at()).toEqual(['closed', 'closed']);
    expect(told.map((t) => t.split(' ')[0])).toEqual(['refused', 'closed']);
  });
});

describe('the link machine: the consuming connection (SharedConnection) on the fake connection', () => {
  beforeEach(() => fakeBrokers.reset());
  afterEach(() => fakeBrokers.reset());

  it('idle, connecting, up, blocked, up, backoff, up, closed', async () => {
    const shared = new SharedConnection({ urls: ['amqp://u:p@10.0.0.9:5672/%2F'], heartbeat: 0 });
    expect(shared.machineState).toBe('idle');
    shared.join({ setup: async () => undefined });
    expect(shared.machineState).toBe('connecting');
    await vi.waitFor(() => expect(fakeBrokers.connections).toHaveLength(1));
    const connection = fakeBrokers.connections[0];
    connection.fail(new Error('connect ECONNREFUSED'));
    expect(shared.machineState).toBe('connecting');
    await connection.connect();
    expect(shared.machineState).toBe('up');
    connection.emit('blocked', 'low on memory');
    expect(shared.machineState).toBe('blocked');
    connection.emit('unblocked');
    expect(shared.machineState).toBe('up');
    connection.lose();
    expect(shared.machineState).toBe('backoff');
    await connection.connect();
    expect(shared.machineState).toBe('up');
    await shared.close();
    expect(shared.machineState).toBe('closed');
    expect(shared.dead).toBe(true);
  });
});
