"""Run the test suite under every float-kernel setting a user's CPU could select, and tabulate the results.

Float results may depend on which kernels the numerical libraries pick for the CPU at hand: MKL
(torch's BLAS) dispatches on the CPU vendor and instruction set (on Intel with AVX-512 its batched
GEMM orders sums differently for different batch counts), ATen and NumPy pick AVX-512 or AVX2
loops, OpenBLAS (NumPy's and SciPy's BLAS) picks a core type, and thread counts change reduction
orders. A test that compares two float computations must hold under all of them. This script
runs pytest under each setting, on any x86-64 machine:

- ``baseline``: nothing changed.
- ``threads-1``, ``threads-2``: ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` 1 and 2, and as many torch
  threads in the agent tests (``SEMCOM_TEST_TORCH_THREADS``, otherwise 1 there); with 2 threads the
  pytest workers (``-n``) are halved so that the cores are never oversubscribed.
- ``mkl-intel-avx512``: MKL's Intel code paths. On AMD CPUs MKL takes its generic paths; a tiny
  preloaded library that answers MKL's internal vendor check (``mkl_serv_intel_cpu_true``, a
  symbol torch's statically linked MKL exports) makes it dispatch as on an Intel CPU, so an AMD
  machine with AVX-512 runs Intel Xeon's AVX-512 kernels (this reproduced, bit for bit, the
  failure seen on an Intel Xeon). On Intel CPUs the preload changes nothing.
- ``mkl-intel-avx2``: the same with ``MKL_ENABLE_INSTRUCTIONS=AVX2`` (an Intel CPU without AVX-512).
- ``mkl-cbwr-compatible``: ``MKL_CBWR=COMPATIBLE`` (MKL's reproducibility mode, SSE2-level kernels).
- ``no-avx512``: a CPU without AVX-512 for every library at once: ATen (``ATEN_CPU_CAPABILITY=avx2``),
  NumPy (``NPY_DISABLE_CPU_FEATURES``), OpenBLAS (``OPENBLAS_CORETYPE=Haswell``) and MKL (Intel
  dispatch, ``MKL_ENABLE_INSTRUCTIONS=AVX2``).

Usage: ``python tools/test_matrix.py [--settings NAME ...] [--json FILE] [-- PYTEST ARGS]``; the
default pytest arguments are the main suite (``-q -n 2 -m "not ray"``). ``make test-matrix``.
Exit status 0 only if every setting passed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHIM_SOURCE = "int mkl_serv_intel_cpu_true(void) { return 1; }\nint mkl_serv_intel_cpu(void) { return 1; }\n"
DEFAULT_PYTEST = ["-q", "-n", "2", "-m", "not ray", "-p", "no:cacheprovider"]


def build_shim(directory: Path) -> Path | None:
    """Compile the MKL vendor-check shim; None (with a note) where no C compiler is available."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        print("note: no C compiler: the mkl-intel-* settings run without the shim (MKL's own dispatch)")
        return None
    source, library = directory / "mkl_intel_dispatch.c", directory / "libmkl_intel_dispatch.so"
    source.write_text(SHIM_SOURCE)
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(library), str(source)], check=True)
    return library


def numpy_avx512_features() -> str:
    """NumPy's dispatchable AVX-512 feature groups found on this CPU, space-separated."""
    code = ("import numpy._core._multiarray_umath as m; print(' '.join(f for f in m.__cpu_dispatch__ "
            "if (f.startswith('AVX512') or f == 'X86_V4') and m.__cpu_features__.get(f)))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def settings(shim: Path | None) -> dict[str, dict[str, str]]:
    """Environment variables of every setting."""
    intel = {"LD_PRELOAD": str(shim)} if shim else {}
    no_avx512 = {**intel, "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "OPENBLAS_CORETYPE": "Haswell"}
    features = numpy_avx512_features()
    if features:
        no_avx512["NPY_DISABLE_CPU_FEATURES"] = features
    return {
        "baseline": {},
        "threads-1": threads(1),
        "threads-2": threads(2),
        "mkl-intel-avx512": intel,
        "mkl-intel-avx2": {**intel, "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
        "mkl-cbwr-compatible": {"MKL_CBWR": "COMPATIBLE"},
        "no-avx512": no_avx512,
    }


def threads(count: int) -> dict[str, str]:
    """A setting that runs every library, and torch in the agent tests, with ``count`` threads."""
    return {"OMP_NUM_THREADS": str(count), "MKL_NUM_THREADS": str(count), "SEMCOM_TEST_TORCH_THREADS": str(count)}


def workers(pytest_args: list[str], env: dict[str, str]) -> list[str]:
    """``pytest_args`` with ``-n N`` divided by the setting's thread count: threads x workers stays N."""
    count = int(env.get("OMP_NUM_THREADS", "1"))
    if "-n" not in pytest_args or count == 1:
        return pytest_args
    at = pytest_args.index("-n") + 1
    if at == len(pytest_args) or not pytest_args[at].isdigit():
        return pytest_args
    return [*pytest_args[:at], str(max(1, int(pytest_args[at]) // count)), *pytest_args[at + 1:]]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    argv = sys.argv[1:]
    pytest_args = DEFAULT_PYTEST
    if "--" in argv:
        cut = argv.index("--")
        argv, pytest_args = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", help="run only these settings (default: all)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        table = settings(build_shim(Path(tmp)))
        unknown = sorted(set(args.settings or []) - set(table))
        if unknown:
            parser.error(f"unknown settings {unknown}; known: {', '.join(table)}")
        chosen = args.settings or list(table)
        results = []
        print(f"CPU: {cpu_model()}; {os.cpu_count()} cores; pytest {' '.join(pytest_args)}")
        for name in chosen:
            env = {**os.environ, **table[name]}
            start = time.perf_counter()
            args_here = workers(pytest_args, table[name])
            proc = subprocess.run([sys.executable, "-m", "pytest", *args_here], env=env, capture_output=True, text=True)
            summary = (proc.stdout.strip().splitlines() or [""])[-1]
            results.append({"setting": name, "env": table[name], "pytest": args_here, "returncode": proc.returncode, "summary": summary,
                            "seconds": round(time.perf_counter() - start, 1)})
            workers_note = "" if args_here == pytest_args else f" (pytest {' '.join(args_here)})"
            print(f"{name:22s} {'PASS' if proc.returncode == 0 else 'FAIL'}  {summary}{workers_note}", flush=True)
            if proc.returncode != 0:
                failed = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
                print("\n".join("    " + line for line in failed[:20]) or proc.stdout[-3000:] + proc.stderr[-3000:])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"cpu": cpu_model(), "pytest": pytest_args, "results": results}, indent=2) + "\n")
    return 0 if all(r["returncode"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
