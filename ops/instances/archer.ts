// A horse archer: a TypeScript port of the reference's networked_horse_archer example
// (deceit-in-detail tactic), with the reference's states, signals and timings in archer
// seconds, run `params.compression` times faster. Changes for a test bed: the archer
// waits in `camp` for {"cmd":"go"} (every queue exists by then), the empathy chart per
// other archer is a three-state function instead of an HsmWithQueues, and entries into
// the tactic's states are reported as "@@ENTER {state, at, arrows, cause}".
//   battle ⊃ deceit_in_detail ⊃ { advance ⊃ circle_and_fire, skirmish ⊃ waiting_to_lure,
//                                 feigned_retreat, marshal ⊃ waiting_to_advance }
import { Event, type NetworkedActiveObject, ReturnStatus, signals } from '../../runtime/index.ts';
import { control, param, readConfig, runInstance } from './common.ts';

const cfg = readConfig();
const compression = param(cfg, 'compression', 20);
const MAXIMUM_ARROW_CAPACITY = 60;
const rand = (a: number, b: number) => a + Math.floor(Math.random() * (b - a + 1));
const t = (archerSeconds: number) => archerSeconds / compression;

type Empathy = 'not_waiting' | 'waiting' | 'dead';
const others = new Map<string, Empathy>();
let arrows = 0;
let ticks = 0;
let cause = 'start';

/** The empathy chart: what this archer believes another one is doing. */
function empathize(state: Empathy, signal: string): Empathy {
  if (['Other_Advance_War_Cry', 'Other_Skirmish_War_Cry', 'Other_Retreat_War_Cry'].includes(signal)) return 'not_waiting';
  if (['Other_Retreat_Ready_War_Cry', 'Other_Ready_War_Cry'].includes(signal)) return 'waiting';
  if (signal === 'Advance_War_Cry' || signal === 'Retreat_War_Cry') return state === 'waiting' ? 'not_waiting' : state === 'not_waiting' ? 'dead' : state;
  return state;
}

function addMemberIfNeeded(name: unknown): void {
  if (typeof name !== 'string' || name === cfg.name || others.has(name)) return;
  others.set(name, 'not_waiting');
  control('OTHERS', { names: [...others.keys()] });
}
const toEmpathy = (e: Event) => {
  addMemberIfNeeded(e.payload);
  if (typeof e.payload === 'string' && others.has(e.payload)) others.set(e.payload, empathize(others.get(e.payload)!, e.signalName));
};
const toAllEmpathy = (e: Event) => {
  for (const [name, s] of others) others.set(name, empathize(s, e.signalName));
};
const yell = (chart: NetworkedActiveObject, signal: string) => chart.transmit(new Event(signal, cfg.name));
const post = (chart: NetworkedActiveObject, signal: string, after?: number) =>
  after === undefined ? chart.postFifo(new Event(signal)) : chart.postFifo(new Event(signal), { times: 1, period: t(after), deferred: true });

/** True if every other archer not believed dead is waiting (scribbles the dead ones). */
function unitReady(chart: NetworkedActiveObject): boolean {
  let ready = true;
  for (const [name, s] of others) {
    if (s === 'dead') chart.snoopScribble(`${cfg.name} thinks ${name} is dead`);
    else ready &&= s === 'waiting';
  }
  return ready;
}

function entered(state: string): void {
  control('ENTER', { state, at: Date.now(), arrows, cause });
}

const S = (e: Event) => e.signalName;

function camp(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  if (S(e) === 'GO') return chart.trans(battle);
  return chart.super(chart.top);
}

function battle(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  switch (S(e)) {
    case 'ENTRY_SIGNAL':
      yell(chart, 'Other_Announce_Arrival_On_Field');
      post(chart, 'Senior_Advance_War_Cry');
      return ReturnStatus.HANDLED;
    case 'INIT_SIGNAL':
      return chart.trans(deceit_in_detail);
    case 'Other_Announce_Arrival_On_Field':
      addMemberIfNeeded(e.payload);
      return ReturnStatus.HANDLED;
  }
  return chart.super(chart.top);
}

function deceit_in_detail(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  switch (S(e)) {
    case 'ENTRY_SIGNAL':
      arrows = MAXIMUM_ARROW_CAPACITY;
      ticks = 0;
      chart.postFifo(new Event('Second'), { times: 0, period: t(1), deferred: true });
      return ReturnStatus.HANDLED;
    case 'EXIT_SIGNAL':
      chart.cancelEvents('Second');
      return ReturnStatus.HANDLED;
    case 'INIT_SIGNAL':
      return chart.trans(advance);
    case 'Second':
      ticks++;
      return ReturnStatus.HANDLED;
    case 'Senior_Advance_War_Cry':
      post(chart, 'Advance_War_Cry');
      return ReturnStatus.HANDLED;
    case 'Senior_Skirmish_War_Cry':
      post(chart, 'Skirmish_War_Cry');
      return ReturnStatus.HANDLED;
    case 'Senior_Retreat_War_Cry':
      post(chart, 'Retreat_War_Cry');
      return ReturnStatus.HANDLED;
    case 'Advance_War_Cry':
      toAllEmpathy(e);
      cause = 'Advance_War_Cry';
      return chart.trans(advance);
    case 'Other_Advance_War_Cry':
      post(chart, 'Advance_War_Cry');
      toEmpathy(e);
      cause = `Other_Advance_War_Cry from ${e.payload}`;
      return chart.trans(advance);
    case 'Other_Retreat_War_Cry':
      post(chart, 'Retreat_War_Cry');
      toEmpathy(e);
      cause = `Other_Retreat_War_Cry from ${e.payload}`;
      return chart.trans(feigned_retreat);
    case 'Skirmish_War_Cry':
      cause = 'Skirmish_War_Cry';
      return chart.trans(skirmish);
    case 'Other_Skirmish_War_Cry':
      toEmpathy(e);
      cause = `Other_Skirmish_War_Cry from ${e.payload}`;
      return chart.trans(skirmish);
    case 'Retreat_War_Cry':
      toAllEmpathy(e);
      cause = 'Retreat_War_Cry';
      return chart.trans(feigned_retreat);
    case 'Other_Retreat_Ready_War_Cry':
    case 'Other_Ready_War_Cry':
      toEmpathy(e);
      return ReturnStatus.HANDLED;
    case 'Reset_Tactic':
      return chart.trans(deceit_in_detail);
  }
  return chart.super(battle);
}

function advance(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  switch (S(e)) {
    case 'ENTRY_SIGNAL':
      entered('advance');
      yell(chart, 'Other_Advance_War_Cry');
      chart.snoopScribble(`${cfg.name} has ${arrows} arrows`);
      post(chart, 'Close_Enough_For_Circle', 3);
      return ReturnStatus.HANDLED;
    case 'EXIT_SIGNAL':
      chart.cancelEvents('Close_Enough_For_Circle');
      return ReturnStatus.HANDLED;
    case 'Senior_Advance_War_Cry':
      return ReturnStatus.HANDLED;
    case 'Other_Advance_War_Cry':
      toEmpathy(e);
      return ReturnStatus.HANDLED;
    case 'Advance_War_Cry':
      toAllEmpathy(e);
      return ReturnStatus.HANDLED;
    case 'Close_Enough_For_Circle':
      return chart.trans(circle_and_fire);
  }
  return chart.super(deceit_in_detail);
}

function circle_and_fire(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  if (S(e) === 'Second') {
    if (ticks % 6 === 0) {
      arrows = Math.max(0, arrows - rand(1, 3));
      chart.scribble(`arrows left ${arrows}`);
    }
    if (arrows < 20) post(chart, 'Skirmish_War_Cry');
    ticks++;
    return ReturnStatus.HANDLED;
  }
  return chart.super(advance);
}

function skirmish(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  switch (S(e)) {
    case 'ENTRY_SIGNAL':
      entered('skirmish');
      yell(chart, 'Other_Skirmish_War_Cry');
      post(chart, 'Officer_Lured', rand(40, 200)); // a knight may charge at him
      if (arrows < 10) post(chart, 'Ammunition_Low');
      return ReturnStatus.HANDLED;
    case 'EXIT_SIGNAL':
      chart.cancelEvents('Retreat_War_Cry');
      chart.cancelEvents('Officer_Lured');
      return ReturnStatus.HANDLED;
    case 'Second':
      if (ticks % 3 === 0 && rand(1, 10) <= 4) {
        arrows = Math.max(0, arrows - 1);
        chart.scribble(`arrows left ${arrows}`);
      }
      if (arrows < 10) post(chart, 'Ammunition_Low');
      ticks++;
      return ReturnStatus.HANDLED;
    case 'Officer_Lured':
      chart.snoopScribble(`Knight Charging at ${cfg.name}`);
      post(chart, 'Retreat_War_Cry');
      return ReturnStatus.HANDLED;
    case 'Ammunition_Low':
      post(chart, 'Retreat_Ready_War_Cry');
      return ReturnStatus.HANDLED;
    case 'Senior_Skirmish_War_Cry':
      return ReturnStatus.HANDLED;
    case 'Other_Skirmish_War_Cry':
      toEmpathy(e);
      return ReturnStatus.HANDLED;
    case 'Skirmish_War_Cry':
      toAllEmpathy(e);
      return ReturnStatus.HANDLED;
    case 'Retreat_Ready_War_Cry':
      post(chart, 'Retreat_War_Cry', unitReady(chart) ? rand(10, 50) : rand(30, 60));
      return chart.trans(waiting_to_lure);
  }
  return chart.super(deceit_in_detail);
}

function waiting_to_lure(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  switch (S(e)) {
    case 'ENTRY_SIGNAL':
      entered('waiting_to_lure');
      yell(chart, 'Other_Retreat_Ready_War_Cry');
      chart.snoopScribble(`${cfg.name} has ${arrows} arrows`);
      chart.snoopScribble(`${cfg.name} acts scared`);
      return ReturnStatus.HANDLED;
    case 'Second':
      ticks++;
      return ReturnStatus.HANDLED;
    case 'Ammunition_Low':
      return ReturnStatus.HANDLED;
  }
  return chart.super(skirmish);
}

function feigned_retreat(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  switch (S(e)) {
    case 'ENTRY_SIGNAL':
      entered('feigned_retreat');
      yell(chart, 'Other_Retreat_War_Cry');
      if (arrows === 0) post(chart, 'Out_Of_Arrows');
      return ReturnStatus.HANDLED;
    case 'EXIT_SIGNAL':
      chart.cancelEvents('Out_Of_Arrows');
      chart.scribble('full gallop');
      return ReturnStatus.HANDLED;
    case 'Second':
      if (ticks % 3 === 0) {
        if (rand(1, 10) <= 8) arrows = Math.max(0, arrows - 1);
        if (arrows === 0) post(chart, 'Out_Of_Arrows');
      }
      ticks++;
      return ReturnStatus.HANDLED;
    case 'Out_Of_Arrows':
      cause = 'Out_Of_Arrows';
      return chart.trans(marshal);
    case 'Retreat_War_Cry':
      toAllEmpathy(e);
      return ReturnStatus.HANDLED;
    case 'Other_Retreat_War_Cry':
      toEmpathy(e);
      return ReturnStatus.HANDLED;
  }
  return chart.super(deceit_in_detail);
}

function marshal(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  switch (S(e)) {
    case 'ENTRY_SIGNAL':
      entered('marshal');
      arrows = MAXIMUM_ARROW_CAPACITY;
      post(chart, 'Ready', 60);
      return ReturnStatus.HANDLED;
    case 'Ready':
      if (unitReady(chart)) post(chart, 'Advance_War_Cry');
      return chart.trans(waiting_to_advance);
  }
  return chart.super(deceit_in_detail);
}

function waiting_to_advance(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  switch (S(e)) {
    case 'ENTRY_SIGNAL': {
      entered('waiting_to_advance');
      yell(chart, 'Other_Ready_War_Cry');
      chart.snoopScribble(`${cfg.name} has ${arrows} arrows`);
      const wait = rand(130, 300);
      if (unitReady(chart)) {
        chart.snoopScribble(`${cfg.name} thinks unit is ready to attack`);
        post(chart, 'Advance_War_Cry');
      } else {
        chart.snoopScribble(`${cfg.name} is impatient he will attack in ${wait} seconds`);
        post(chart, 'Advance_War_Cry', wait);
      }
      return ReturnStatus.HANDLED;
    }
    case 'EXIT_SIGNAL':
      chart.cancelEvents('Advance_War_Cry');
      return ReturnStatus.HANDLED;
  }
  return chart.super(marshal);
}

void signals;
await runInstance(cfg, camp, { onCommand: (chart, c) => c.cmd === 'go' && chart.postFifo(new Event('GO')) });
