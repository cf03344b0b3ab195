"""Runs one conformance case (test/fixtures/conformance/README.md) on Python miros.

    MIROS_PY=/path/to/miros-source python3 bench/conformance-oracle.py CASE.json

The Python side of `npm run bench -- conformance`: the same case language as
ops/conformance, printed as the same JSON object (the content of
expected/<case>.json). miros is imported from the source tree MIROS_PY points at
(it is never a dependency of this project); only the standard library is used
besides it.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.environ.get("MIROS_PY", "."))

from miros import Event, HsmWithQueues, return_status, signals, spy_on  # noqa: E402

TIMESTAMP = re.compile(r"^[ ]*\[[0-9-:. ]+\] (.+)$")


def stripped_lines(text):
    out = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line:
            m = TIMESTAMP.match(line)
            out.append(m.group(1) if m else line)
    return out


def truthy(v):
    return not (v is None or v is False or v == 0 or v == "")


def guard_passes(g, attrs):
    v = attrs.get(g["attr"])
    op = g["op"]
    if op == "truthy":
        return truthy(v)
    if op == "falsy":
        return not truthy(v)
    b = g.get("value")
    try:
        if op == "==":
            return v == b
        if op == "!=":
            return v != b
        if op == "<":
            return v < b
        if op == "<=":
            return v <= b
        if op == ">":
            return v > b
        return v >= b
    except TypeError:
        return False


def run_case(case):
    chart = HsmWithQueues()
    chart.name = case.get("name")
    attrs = dict(case.get("attributes") or {})
    log = []
    states = {}

    def run(actions):
        status = return_status.HANDLED
        for a in actions:
            if "when" in a and not guard_passes(a["when"], attrs):
                continue
            if "trans" in a:
                status = chart.trans(states[a["trans"]])
            elif "handled" in a:
                status = return_status.HANDLED
            elif "unhandled" in a:
                status = return_status.UNHANDLED
            elif "post_fifo" in a:
                chart.post_fifo(Event(signal=a["post_fifo"]))
            elif "post_lifo" in a:
                chart.post_lifo(Event(signal=a["post_lifo"]))
            elif "defer" in a:
                chart.defer(Event(signal=a["defer"]))
            elif "recall" in a:
                chart.recall()
            elif "scribble" in a:
                chart.scribble(a["scribble"])
            elif "log" in a:
                log.append(a["log"])
            elif "set" in a:
                attrs.update(a["set"])
            elif "inc" in a:
                for k, n in a["inc"].items():
                    attrs[k] = (attrs.get(k) or 0) + n
        return status

    def make_state(name, definition):
        table = {}
        for key, sig in (("entry", "ENTRY_SIGNAL"), ("exit", "EXIT_SIGNAL"), ("init", "INIT_SIGNAL")):
            if key in definition:
                table.setdefault(getattr(signals, sig), []).append({"actions": definition[key]})
        for h in definition.get("handlers", []):
            table.setdefault(Event(signal=h["signal"]).signal, []).append(h)
        parent = definition.get("parent")

        def handler(chart_, e):
            hs = table.get(e.signal)
            if hs is None:
                chart.temp.fun = chart.top if parent is None else states[parent]
                return return_status.SUPER
            for h in hs:
                if "guard" not in h or guard_passes(h["guard"], attrs):
                    return run(h.get("actions", []))
            return return_status.UNHANDLED

        handler.__name__ = name
        return spy_on(handler)

    for name, definition in case["states"].items():
        states[name] = make_state(name, definition)

    def snapshot():
        spy = chart.spy() or []
        chart.clear_spy()
        trace = stripped_lines(chart.trace())
        chart.clear_trace()
        out = {"spy": spy, "trace": trace, "log": list(log), "state": chart.current_state(), "attrs": dict(attrs)}
        del log[:]
        return out

    for sig in case.get("pre_start") or []:
        chart.post_fifo(Event(signal=sig))
    chart.start_at(states[case["start"]])
    if case.get("complete_after_start", True):
        chart.complete_circuit()
    start = snapshot()

    steps = []
    for step in case.get("events", []):
        if isinstance(step, str):
            step = {"post_fifo": step}
        if "dispatch" in step:
            sig = step["dispatch"]
            chart.dispatch(Event(signal=sig))
        else:
            kind = "post_fifo" if "post_fifo" in step else "post_lifo"
            sig = step[kind]
            e = Event(signal=sig)
            if kind == "post_fifo":
                chart.post_fifo(e)
            else:
                chart.post_lifo(e)
            if step.get("run", True):
                chart.complete_circuit()
        snap = snapshot()
        steps.append(dict(event=sig, **snap))
    return {"case": case.get("case"), "start": start, "steps": steps}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: conformance-oracle.py CASE.json (with MIROS_PY set to a miros source tree)")
    with open(sys.argv[1]) as f:
        case = json.load(f)
    sys.stdout.write(json.dumps(run_case(case)) + "\n")


if __name__ == "__main__":
    main()
