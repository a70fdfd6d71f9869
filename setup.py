# SPDX-License-Identifier: MIT
"""Build the rcgc Python package: rcgc (pure Python) + rcgc._rcgc (C).

The extension is compiled from the same C sources as the CMake build
(objalloc/*.c, refcount/*.c, cyclegc/*.c) plus pyext/*.c, with the
repository root as include directory; no separately installed C library
is needed.  Works with whichever python3 runs it:

    python3 setup.py build_ext --inplace     # then PYTHONPATH=pyext
    pip install --no-build-isolation .       # offline, system setuptools
    python3 -m build --no-isolation          # sdist, then a wheel from it

Metadata (licence, description, classifiers) is here; pyproject.toml
names the build backend; MANIFEST.in lists what the sdist carries.  The
version is the first line of the file VERSION, as for the C library.

Environment:
    RCGC_PYEXT_DEBUG=1   compile with RCGC_DEBUG and RCGC_VALGRIND (the
                         library's debug checks and memcheck client
                         requests), -O0 -g; used by scripts/check-python.sh
    RCGC_PYEXT_WERROR=1  add -Werror
"""

import glob
import os

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)  # sources are given relative to the root


def sources():
    """The C sources, relative to the repository root, in a stable order."""
    out = []
    for layer in ("base", "objalloc", "refcount", "cyclegc", "pyext"):
        out.extend(sorted(os.path.relpath(p, HERE) for p in
                          glob.glob(os.path.join(HERE, layer, "*.c"))))
    # The allocator switch (rcgc.use_objalloc) shares rcgc-python's glue.
    out.append(os.path.join("pyalloc", "pyalloc.c"))
    return out


def headers():
    out = []
    for layer in ("base", "objalloc", "refcount", "cyclegc", "pyext"):
        out.extend(sorted(os.path.relpath(p, HERE) for p in
                          glob.glob(os.path.join(HERE, layer, "*.h"))))
    return out + [os.path.join("pyalloc", "pyalloc.h")]


def version():
    """The version: the first line of VERSION (the one source)."""
    with open(os.path.join(HERE, "VERSION")) as f:
        return f.readline().strip()


def long_description():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        return f.read()


VERSION = version()


DEBUG = os.environ.get("RCGC_PYEXT_DEBUG", "") not in ("", "0")
WERROR = os.environ.get("RCGC_PYEXT_WERROR", "") not in ("", "0")

# Hidden visibility, and RCGC_API empty: the library's functions are
# internal to the extension, which exports PyInit__rcgc alone.  Were they
# exported, a librcgc.so loaded globally first (LD_PRELOAD, or a program
# linked with it that imports rcgc) would interpose its copies on ours,
# mixing two builds' state (tests/python/test_module.py checks both).
macros = [("RCGC_API", ""), ("RCGC_PYEXT_VERSION", '"%s"' % VERSION)]
cflags = ["-std=c11", "-Wall", "-Wextra", "-Wpedantic",
          "-fvisibility=hidden"]
if DEBUG:
    macros += [("RCGC_DEBUG", "1"), ("RCGC_VALGRIND", "1")]
    cflags += ["-O0", "-g"]
else:
    cflags += ["-O2"]
if WERROR:
    cflags.append("-Werror")

ext = Extension(
    "rcgc._rcgc",
    sources=sources(),
    depends=headers(),
    include_dirs=[HERE],
    define_macros=macros,
    extra_compile_args=cflags,
    extra_link_args=["-pthread"],
)

setup(
    name="rcgc",
    version=VERSION,
    description="CPython's memory model as a library: a pymalloc-style "
                "allocator, reference counting and a three-generation "
                "cycle collector, with a Python laboratory for "
                "memory-management experiments",
    long_description=long_description(),
    long_description_content_type="text/markdown",
    license="MIT",
    license_files=["LICENSE"],
    keywords="garbage collection, reference counting, allocator, pymalloc",
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Developers",
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: MIT License",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: C",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: Implementation :: CPython",
        "Topic :: Software Development :: Libraries",
        "Topic :: System :: Benchmark",
        "Typing :: Typed",
    ],
    packages=["rcgc"],
    package_dir={"rcgc": "pyext/rcgc"},
    package_data={"rcgc": ["__init__.pyi", "py.typed"]},
    ext_modules=[ext],
    python_requires=">=3.8",
    zip_safe=False,
)
