// key-rotation: the mesh key is rotated across running instances, without a restart, while
// every instance keeps transmitting (a PING every TICK_MS, numbered per sender). The runner
// rolls each step out one instance at a time ({"cmd":"keys"}: chart.useEncryptionKeys):
//   step 1: [old, new] everywhere  (decrypts both, still encrypts with old)
//   step 2: [new, old] everywhere  (encrypts with new; old tokens still queued decrypt)
//   retire: [new] everywhere, once every PING sent before step 2 has arrived
// Checks: every PING reached every other instance exactly once; nothing dropped; each step
// took effect (key fingerprints); after retiring, the PINGs open with the new key.
import { generateKey, keyFingerprint } from '../../../runtime/index.ts';
import { sleep, until } from '../../util/wait.ts';
import type { Instance, Run, Scenario } from '../runner.ts';
import { check, type CheckResult } from '../summary.ts';

const TICK_MS = 50;
/** Traffic before the first step, between steps and after the last. */
const PHASE_MS = 1500;
/** Between two instances of a rollout: the others still have the previous list meanwhile. */
const ROLLOUT_GAP_MS = 300;

interface Ping {
  from: string;
  n: number;
}

interface Step {
  name: string;
  keys: string[];
  /** Per instance: how many PINGs it had sent when it got the step (later ones use its new list). */
  sentBefore: Map<string, number>;
}

export function keyRotation(): Scenario {
  const newKey = generateKey();
  const steps: Step[] = [];
  const sent = new Map<string, number>();
  let trafficDone = false;

  const pingsOf = (i: Instance): Ping[] => i.got('GOT').filter((g) => g.signal === 'PING').map((g) => g.payload as Ping);
  /** Per receiver: PINGs of each other sender that never arrived, and ones that arrived twice. */
  const delivery = (run: Run, upTo: (sender: string) => number) => {
    const missing: string[] = [];
    const twice: string[] = [];
    for (const receiver of run.instances) {
      const got = new Map<string, Map<number, number>>();
      for (const p of pingsOf(receiver)) {
        const bySender = got.get(p.from) ?? new Map<number, number>();
        bySender.set(p.n, (bySender.get(p.n) ?? 0) + 1);
        got.set(p.from, bySender);
      }
      for (const sender of run.instances) {
        if (sender === receiver) continue;
        const bySender = got.get(sender.name) ?? new Map<number, number>();
        const lost = [];
        for (let n = 1; n <= upTo(sender.name); n++) if (!bySender.has(n)) lost.push(n);
        if (lost.length) missing.push(`${receiver.name} is missing ${lost.length} PINGs of ${sender.name} (${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', …' : ''})`);
        for (const [n, count] of bySender) if (count > 1) twice.push(`${receiver.name} got PING ${n} of ${sender.name} ${count} times`);
      }
    }
    return { missing, twice };
  };

  /** Sends the step to one instance after the other and waits for each one's @@KEYS answer. */
  const rollOut = async (run: Run, name: string, keys: string[]) => {
    const step: Step = { name, keys, sentBefore: new Map() };
    steps.push(step);
    run.log(`${name}: ${keys.map(keyFingerprint).join(', ')} (encrypting key first), one instance after the other`);
    for (const i of run.instances) {
      const answers = i.got('KEYS').length;
      step.sentBefore.set(i.name, sent.get(i.name) ?? 0);
      i.send({ cmd: 'keys', network: 'mesh', keys });
      if (!(await until(() => i.got('KEYS').length > answers, 10_000))) throw new Error(`${i.name} did not answer the keys command of ${name} within 10 s`);
      await sleep(ROLLOUT_GAP_MS);
    }
  };

  const traffic = async (run: Run) => {
    while (!trafficDone) {
      for (const i of run.instances) {
        const n = (sent.get(i.name) ?? 0) + 1;
        sent.set(i.name, n);
        i.send({ cmd: 'transmit', signal: 'PING', payload: { from: i.name, n } });
      }
      await sleep(TICK_MS);
    }
  };

  return {
    name: 'key-rotation',
    timeoutMs: 90_000,
    instances: ({ nodes, run }) => Array.from({ length: nodes }, (_, i) => ({ name: `kr${i}-${run}`, program: 'peer', broker: i })),
    go: async (run) => {
      const old = run.keys.mesh;
      const pinging = traffic(run);
      try {
        await sleep(PHASE_MS);
        await rollOut(run, 'step 1', [old, newKey]);
        await sleep(PHASE_MS);
        await rollOut(run, 'step 2', [newKey, old]);
        await sleep(PHASE_MS);
        // retire the old key only once no PING it encrypted is on its way
        const step2 = steps[1];
        if (!(await until(() => delivery(run, (s) => step2.sentBefore.get(s) ?? 0).missing.length === 0, 30_000))) {
          throw new Error('the PINGs sent before step 2 did not all arrive within 30 s; not retiring the old key');
        }
        await rollOut(run, 'retire', [newKey]);
        await sleep(PHASE_MS);
      } finally {
        trafficDone = true;
        await pinging;
      }
      run.log(`traffic stopped: ${[...sent.values()].reduce((a, b) => a + b, 0)} PINGs sent; waiting for the last ones`);
    },
    done: (run) => trafficDone && delivery(run, (s) => sent.get(s) ?? 0).missing.length === 0,
    checks: (run): CheckResult[] => {
      const { missing, twice } = delivery(run, (s) => sent.get(s) ?? 0);
      const total = [...sent.values()].reduce((a, b) => a + b, 0);
      const fp = (keys: string[]) => keys.map(keyFingerprint).join(',');
      const answers = (i: Instance) => i.got('KEYS');
      const stepTook = (k: number) =>
        run.instances.flatMap((i) => {
          const a = answers(i)[k];
          if (!a) return [`${i.name}: no answer to ${steps[k]?.name ?? `step ${k + 1}`}`];
          if (a.error) return [`${i.name}: ${steps[k].name} refused: ${a.error}`];
          const now = (a.after ?? []).map((u) => u.fingerprint).join(',');
          return now === fp(steps[k].keys) ? [] : [`${i.name}: after ${steps[k].name} its keys are ${now}, expected ${fp(steps[k].keys)}`];
        });
      // the retire answer's "before" is the step-2 ring: what it opened with each key
      const openedWithNew = run.instances.flatMap((i) => {
        const retire = answers(i)[2];
        const got = retire?.before?.[0]?.decrypted ?? 0;
        return got > 0 ? [] : [`${i.name} opened no PING with the new key between step 2 and retiring the old one`];
      });
      const phases = steps.map((s, k) =>
        run.instances.filter((i) => (steps[k + 1]?.sentBefore.get(i.name) ?? sent.get(i.name) ?? 0) - (s.sentBefore.get(i.name) ?? 0) < 5).map((i) => `${i.name} sent under 5 PINGs after ${s.name}`),
      );
      return [
        check(`every PING (${total} sent, ${run.instances.length - 1} receivers each) arrived exactly once`, [...missing, ...twice]),
        check('no mesh message was dropped (mesh.droppedBy empty on every instance)', run.instances.flatMap((i) => {
          if (!i.stats) return [`${i.name} reported no STATS`];
          return i.stats.mesh.dropped === 0 ? [] : [`${i.name} dropped ${i.stats.mesh.dropped}: ${JSON.stringify(i.stats.mesh.droppedBy)}`];
        })),
        check('traffic went on through every step (at least 5 PINGs per sender after each)', phases.flat()),
        check('step 1: every instance decrypts old and new, encrypts with old', stepTook(0)),
        check('step 2: every instance encrypts with new, still decrypts old', stepTook(1)),
        check('retire: every instance has only the new key; what it received after step 2 opened with the new key', [...stepTook(2), ...openedWithNew]),
      ];
    },
  };
}
