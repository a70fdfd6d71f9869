"""check_launcher.py - rcgc-python behaves like python3 and stays on objalloc.

Usage: python3 launcher/check_launcher.py BUILD/rcgc-python

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
    RCGC_OBJALLOC=0 runs without objalloc.
"""
import os
import subprocess
import sys

PROBE = (
    "import _rcgc_python as r, sys\n"
    "s0 = r.stats()['nmalloc'] + r.stats()['ncalloc']\n"
    "keep = [object() for _ in range(10000)]\n"
    "s1 = r.stats()['nmalloc'] + r.stats()['ncalloc']\n"
    "print(r.installed(), s1 - s0 >= 10000, r.check())\n"
)


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
               p.returncode == 0 and p.stdout.strip() == "True True True", p)


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
    expect("sys.executable is the launcher",
           os.path.realpath(p.stdout.strip()) == os.path.realpath(launcher),
           p)
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


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_launcher.py PATH/TO/rcgc-python")
    launcher = os.path.abspath(sys.argv[1])
    check_installed(launcher)
    check_command_line(launcher)
    check_environment(launcher)
    print("check_launcher: all checks passed")


if __name__ == "__main__":
    main()
