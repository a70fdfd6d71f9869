# SPDX-License-Identifier: MIT
"""cgcompare.py - CPython on objalloc against the same binary on pymalloc,
counted by Valgrind (callgrind with its cache and branch simulation), so
that differences of a percent can be seen on a shared, noisy machine.

Usage: python3 cgcompare.py BUILD/rcgc-python-stock [--only json,ast,...]
                            [--keep DIR]

For each workload (the scripts of this directory, run with --small so that
each takes a minute or two under Valgrind) the stock interpreter runs twice
under callgrind with librcgc-pyalloc.so preloaded: with objalloc, and with
the library idle (RCGC_OBJALLOC=0: pymalloc).  Both runs compute the same
thing (the script's checksum is compared).  Printed per workload, as
objalloc / pymalloc:
  - Ir, D1 and LL misses, mispredicted branches of the whole process
    (user space only: the kernel's page faults and madvise calls are not
    counted), and a cost estimate Ir + 10 * D1 misses + 100 * LL misses;
  - the allocator's instructions per call: objalloc's are those of
    librcgc-pyalloc-impl.so divided by the calls into its hooks.
    pymalloc has no functions of its own to count: Debian's PGO build
    inlines it into its callers (indirect-call promotion of
    _PyObject.malloc), so its share is estimated as what the interpreter
    binary executes in the pymalloc run beyond the objalloc run (the same
    Python code runs in both; what differs is the inlined allocator and
    the call sites that reach the hooks instead).
Files are kept in --keep DIR (default: a temporary directory, removed)
for callgrind_annotate.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = {"json": "json_roundtrip.py", "ast": "ast_parse.py",
             "compileall": "compile_all.py", "regex": "regex_text.py"}
IMPL = "librcgc-pyalloc-impl.so"
LIBC = "/libc.so.6"
HOOKS = ("hook_malloc", "hook_calloc", "hook_realloc", "hook_free",
         "drain_malloc", "drain_calloc", "drain_realloc")
EVENTS = ("Ir", "D1mr", "D1mw", "DLmr", "DLmw", "Bcm", "Bim")


def stock_python(launcher):
    """The interpreter rcgc-python-stock execs (its sys.executable)."""
    out = subprocess.run([launcher, "-c", "import sys; print(sys.executable)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def run(python, preload, script, objalloc, out):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "RCGC_")) and k != "LD_PRELOAD"}
    env.update(PYTHONHASHSEED="0", LD_PRELOAD=preload,
               RCGC_OBJALLOC="1" if objalloc else "0")
    cmd = ["valgrind", "--tool=callgrind", "--cache-sim=yes",
           "--branch-sim=yes", f"--callgrind-out-file={out}",
           python, os.path.join(HERE, script), "--small"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"cgcompare: {script} failed:\n{res.stderr[-2000:]}")
    return res.stdout


class Profile:
    """Self cost per object file, and calls into each function, read from
    a callgrind output file (name compression: "(id) name" once, then
    "(id)")."""

    def __init__(self, path):
        self.events = []
        self.by_object = collections.defaultdict(
            lambda: collections.Counter())
        self.calls = collections.Counter()
        names = {"ob": {}, "fl": {}, "fn": {}}  # one id space per kind

        def name(kind, text):
            m = re.match(r"\((\d+)\)(?:\s+(.*))?", text)
            if m is None:
                return text
            table = names[kind]
            if m.group(2):
                table[m.group(1)] = m.group(2)
            return table.get(m.group(1), m.group(1))

        kinds = {"ob": "ob", "cob": "ob", "fn": "fn", "cfn": "fn",
                 "fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl",
                 "cfl": "fl"}
        obj = cfn = None
        call_line = False
        with open(path) as f:
            for line in f:
                key, eq, rest = line.partition("=")
                if line.startswith("events:"):
                    self.events = line.split()[1:]
                elif eq and key in kinds:
                    text = name(kinds[key], rest.strip())
                    if key == "ob":
                        obj = text
                    elif key == "cfn":
                        cfn = text
                elif key == "calls" and eq:
                    self.calls[cfn] += int(rest.split()[0])
                    call_line = True
                elif line[:1].isdigit() or line[:1] in "+-*":
                    if call_line:  # inclusive cost of the call: skip
                        call_line = False
                        continue
                    self.add(obj, line.split()[1:])

    def add(self, obj, costs):
        row = self.by_object[obj]
        for ev, c in zip(self.events, costs):
            row[ev] += int(c)

    def total(self, ev, match=None):
        return sum(row[ev] for o, row in self.by_object.items()
                   if match is None or (o or "").endswith(match))


def estimate(p, match=None):
    ev = collections.Counter({e: p.total(e, match) for e in EVENTS})
    return ev["Ir"] + 10 * (ev["D1mr"] + ev["D1mw"]) + \
        100 * (ev["DLmr"] + ev["DLmw"])


def report(name, oa, pm, python):
    def ratio(ev):
        a, b = oa.total(ev), pm.total(ev)
        return f"{a / b:.4f}" if b else "-"

    ncalls = sum(oa.calls[h] for h in HOOKS)
    oa_ir = oa.total("Ir", IMPL)
    pm_ir = pymalloc_ir(oa, pm, python)
    return (f"| {name} | {ratio('Ir')} | {ratio('D1mr')} | "
            f"{ratio('DLmr')} | {ratio('DLmw')} | {ratio('Bim')} | "
            f"{estimate(oa) / estimate(pm):.4f} | {ncalls:,} | "
            f"{oa_ir / ncalls:.1f} | {pm_ir / ncalls:.1f} | "
            f"{100 * oa_ir / oa.total('Ir'):.1f} | "
            f"{100 * pm_ir / pm.total('Ir'):.1f} |")


def pymalloc_ir(oa, pm, python):
    """What pymalloc and the system malloc under it executed: the
    interpreter's and libc's instructions beyond the objalloc run's."""
    interp = os.path.realpath(python)
    return sum(pm.total("Ir", obj) - oa.total("Ir", obj)
               for obj in (interp, LIBC))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("launcher", help="BUILD/rcgc-python-stock")
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--keep", help="directory for the callgrind files")
    args = ap.parse_args()
    python = stock_python(args.launcher)
    preload = os.path.join(os.path.dirname(os.path.abspath(args.launcher)),
                           "librcgc-pyalloc.so")
    keep = args.keep or tempfile.mkdtemp(prefix="rcgc-cgcompare-")
    os.makedirs(keep, exist_ok=True)
    print("| workload | Ir | D1 read misses | LL read misses | "
          "LL write misses | indirect mispredicts | est. cycles | "
          "allocator calls | objalloc Ir/call | pymalloc+libc Ir/call "
          "(est.) | objalloc % of Ir | pymalloc+libc % of Ir (est.) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        script = WORKLOADS[name]
        files = [os.path.join(keep, f"callgrind.{name}.{kind}")
                 for kind in ("objalloc", "pymalloc")]
        outs = [run(python, preload, script, kind == 0, f)
                for kind, f in enumerate(files)]
        if outs[0] != outs[1]:
            sys.exit(f"cgcompare: {script}: the two runs differ: {outs}")
        oa, pm = Profile(files[0]), Profile(files[1])
        print(report(name, oa, pm, python), flush=True)
    if args.keep is None:
        for f in os.listdir(keep):
            os.unlink(os.path.join(keep, f))
        os.rmdir(keep)


if __name__ == "__main__":
    main()
