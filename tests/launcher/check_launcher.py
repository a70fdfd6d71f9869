# SPDX-License-Identifier: MIT
"""check_launcher.py - rcgc-python behaves like python3 and stays on objalloc.

Usage: python3 tests/launcher/check_launcher.py BUILD/rcgc-python
       python3 tests/launcher/check_launcher.py BUILD/rcgc-python-stock --stock

The second form checks the stock python3.11 binary with librcgc-pyalloc.so
preloaded (rcgc-python-stock): the same checks, except that sys.executable
is the stock interpreter (the child check then runs on objalloc through
the inherited LD_PRELOAD), plus: LD_PRELOAD is kept for children, a
program that is not Python runs unharmed under it, and a program that
embeds libpython3.11.so (rcgc-python, when built next to it) is left to
its own main().

Run by scripts/python-check.sh.  Each check starts the launcher in a
subprocess and states what it expects; the script exits 1 on the first
mismatch.  What is checked:
  - objalloc serves PyMem/PyObject after start-up, whatever PYTHONMALLOC,
    -X dev, -E or -I say (Py_BytesMain's second pre-initialisation must
    not replace the hook), and new objects come from the heap;
  - the command line works as with python3: -c, -m, a script on stdin,
    exit status of sys.exit and of an uncaught exception, sys.executable;
  - a child started with sys.executable runs on objalloc too;
  - RCGC_MALLOCSTATS=1 prints the statistics, RCGC_HEAPCHECK=1 passes,
    RCGC_OBJALLOC=0 runs without objalloc;
  - RCGC_TRACE=<file> records a complete trace (bench/trace_io.h) on
    pymalloc, and a child process does not write into it.
"""
import os
import subprocess
import sys
import tempfile

PROBE = (
    "import _rcgc_python as r, sys\n"
    "s0 = r.stats()['nmalloc'] + r.stats()['ncalloc']\n"
    "keep = [object() for _ in range(10000)]\n"
    "s1 = r.stats()['nmalloc'] + r.stats()['ncalloc']\n"
    "print(r.installed(), s1 - s0 >= 10000, r.check(), r.mode())\n"
)
MODE = "launcher"  # what _rcgc_python.mode() says: "preload" with --stock
EXECUTABLE = None  # the expected sys.executable: the launcher, or python3.11


def run(launcher, args, env_extra=None, stdin=None, drop=()):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "RCGC_")) and k not in drop}
    env.update(env_extra or {})
    return subprocess.run([launcher] + args, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def expect(what, cond, proc=None):
    if cond:
        print(f"ok    {what}")
        return
    print(f"FAIL  {what}")
    if proc is not None:
        print(f"      status {proc.returncode}\n      stdout {proc.stdout!r}"
              f"\n      stderr {proc.stderr[-2000:]!r}")
    sys.exit(1)


def check_installed(launcher):
    variants = [
        ("default", [], {}),
        ("PYTHONMALLOC=malloc", [], {"PYTHONMALLOC": "malloc"}),
        ("PYTHONMALLOC=pymalloc", [], {"PYTHONMALLOC": "pymalloc"}),
        ("PYTHONMALLOC=debug", [], {"PYTHONMALLOC": "debug"}),
        ("PYTHONMALLOC=malloc_debug", [], {"PYTHONMALLOC": "malloc_debug"}),
        ("-X dev", ["-X", "dev"], {}),
        ("PYTHONDEVMODE=1", [], {"PYTHONDEVMODE": "1"}),
        ("-E with PYTHONMALLOC=malloc", ["-E"], {"PYTHONMALLOC": "malloc"}),
        ("-I", ["-I"], {}),
        ("-X utf8", ["-X", "utf8"], {}),
    ]
    for name, args, env in variants:
        p = run(launcher, args + ["-c", PROBE], env)
        expect(f"objalloc serves new objects under {name}",
               p.returncode == 0
               and p.stdout.strip() == f"True True True {MODE}", p)


def check_command_line(launcher):
    p = run(launcher, ["-c", "import sys; print(sys.argv[1:]); sys.exit(7)",
                       "a", "b"])
    expect("-c with arguments, sys.exit status",
           p.returncode == 7 and p.stdout.strip() == "['a', 'b']", p)
    p = run(launcher, ["-c", "raise ValueError('boom')"])
    expect("uncaught exception: status 1 and a traceback",
           p.returncode == 1 and "ValueError: boom" in p.stderr, p)
    p = run(launcher, ["-"], stdin="print(sum(range(10)))\n")
    expect("script on stdin", p.stdout.strip() == "45", p)
    p = run(launcher, ["-m", "json.tool"], stdin='{"b": [1, 2]}')
    expect("-m json.tool", p.returncode == 0 and '"b"' in p.stdout, p)
    p = run(launcher, ["-c", "import sys; print(sys.executable)"])
    expect(f"sys.executable is {EXECUTABLE}",
           os.path.realpath(p.stdout.strip()) ==
           os.path.realpath(EXECUTABLE), p)
    child = ("import subprocess, sys; print(subprocess.run([sys.executable,"
             " '-c', 'import _rcgc_python as r; print(r.installed())'],"
             " capture_output=True, text=True).stdout.strip())")
    p = run(launcher, ["-c", child])
    expect("a child started with sys.executable runs on objalloc",
           p.stdout.strip() == "True", p)
    p = run(launcher, ["-c", "print(open.__module__)", "--version"])
    expect("options after -c belong to the script", p.returncode == 0, p)
    p = run(launcher, ["--version"])
    expect("--version", p.stdout.startswith("Python 3."), p)


def check_environment(launcher):
    p = run(launcher, ["-c", "x = [str(i) for i in range(1000)]"],
            {"RCGC_MALLOCSTATS": "1"})
    expect("RCGC_MALLOCSTATS=1 prints objalloc statistics to stderr",
           p.returncode == 0 and "objalloc statistics at exit" in p.stderr,
           p)
    p = run(launcher, ["-c", "pass"])
    expect("no statistics without RCGC_MALLOCSTATS", p.stderr == "", p)
    p = run(launcher, ["-c", "import json; json.dumps(list(range(9999)))"],
            {"RCGC_HEAPCHECK": "1"})
    expect("RCGC_HEAPCHECK=1: heap invariants hold at exit",
           p.returncode == 0, p)
    p = run(launcher, ["-c", "import _rcgc_python"], {"RCGC_OBJALLOC": "0"})
    expect("RCGC_OBJALLOC=0 runs the stock allocator",
           p.returncode == 1 and "ModuleNotFoundError" in p.stderr, p)


def varints(data, pos, n):
    """n little-endian varints from data[pos:], and the position after."""
    out = []
    for _ in range(n):
        v = shift = 0
        while True:
            b = data[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        out.append(v)
    return out, pos


def read_trace(path):
    """(calls, slots, end record's counts) of a trace file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"RCGCTRC1":
        return None
    pos, calls, live = 8, 0, set()
    while data[pos] != 0xFF:
        tag = data[pos]
        (slot,), pos = varints(data, pos + 1, 1)
        if tag & 3 != 3:
            _, pos = varints(data, pos, 1)
        if (tag & 3 < 2) == (slot in live):
            return None  # the slot rules are broken
        (live.add if tag & 3 != 3 else live.discard)(slot)
        calls += 1
    end, pos = varints(data, pos + 1, 2)
    return calls, pos == len(data), end


def check_trace(launcher):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.trc")
        p = run(launcher, ["-c", "import subprocess, sys\n"
                           "x = [str(i) for i in range(1000)]\n"
                           "subprocess.run([sys.executable, '-c', 'pass'])"],
                {"RCGC_TRACE": path})
        t = read_trace(path) if p.returncode == 0 else None
        expect("RCGC_TRACE=<file> records a complete trace, no child in it",
               t is not None and t[0] > 1000 and t[1] and t[2][0] == t[0],
               p)


def check_preload(launcher):
    """rcgc-python-stock only: LD_PRELOAD and the processes it reaches."""
    p = run(launcher, ["-c", "import os; print(os.environ['LD_PRELOAD'])"])
    expect("LD_PRELOAD names librcgc-pyalloc.so for children",
           "librcgc-pyalloc.so" in p.stdout, p)
    preload = p.stdout.strip().split(":")[0]
    p = run("/bin/sh", ["-c", "echo shell ok; ls / >/dev/null && echo ls ok"],
            {"LD_PRELOAD": preload})
    expect("programs that are not Python run unharmed under it",
           p.returncode == 0 and p.stdout.split() == ["shell", "ok", "ls",
                                                      "ok"]
           and p.stderr == "", p)
    p = run(EXECUTABLE, ["-c", "import _rcgc_python as r; print(r.mode())"],
            {"LD_PRELOAD": preload, "LD_BIND_NOW": "1"})
    expect("python3.11 itself runs on objalloc under LD_PRELOAD (LD_BIND_NOW)",
           p.returncode == 0 and p.stdout.strip() == "preload", p)
    embedder = os.path.join(os.path.dirname(launcher), "rcgc-python")
    if os.path.exists(embedder):
        p = run(embedder, ["-c", PROBE], {"LD_PRELOAD": preload})
        expect("a libpython3.11.so program is left to its own main()",
               p.returncode == 0
               and p.stdout.strip() == "True True True launcher", p)
    p = run(launcher, ["-c", "import _rcgc_python"], {"RCGC_OBJALLOC": "0"})
    expect("RCGC_OBJALLOC=0: the library does nothing",
           p.returncode == 1 and "ModuleNotFoundError" in p.stderr, p)


def main():
    global MODE, EXECUTABLE
    args = sys.argv[1:]
    stock = "--stock" in args
    args = [a for a in args if a != "--stock"]
    if len(args) != 1:
        sys.exit("usage: check_launcher.py PATH/TO/rcgc-python "
                 "| PATH/TO/rcgc-python-stock --stock")
    launcher = os.path.abspath(args[0])
    EXECUTABLE = launcher
    if stock:
        MODE = "preload"
        p = run(launcher, ["-c", "import sys; print(sys.executable)"],
                {"RCGC_OBJALLOC": "0"})
        EXECUTABLE = p.stdout.strip()
        expect("rcgc-python-stock runs an interpreter", p.returncode == 0
               and os.path.isabs(EXECUTABLE), p)
    check_installed(launcher)
    check_command_line(launcher)
    check_environment(launcher)
    if not stock:
        check_trace(launcher)
    if stock:
        check_preload(launcher)
    print("check_launcher: all checks passed")


if __name__ == "__main__":
    main()
