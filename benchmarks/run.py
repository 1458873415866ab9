"""Time schemactl against plain Alembic on synthetic histories, in one run, alternating.

For each size, a history is generated (benchmarks/generate.py) and each pair of commands is
run in turn, several times, so both see the same machine load. Prints the medians, the
ratio schemactl / baseline, and each command's peak memory (max RSS of its process).

    python benchmarks/run.py                 # 1,000, 3,000 and 10,000 revisions
    python benchmarks/run.py --sizes 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

BIN = Path(sys.executable).parent
# name, schemactl command, baseline command, target ratio (None: no ratio target)
PAIRS = [
    (
        "render (sql vs upgrade --sql)",
        ["schemactl", "sql", "--env", "prod", "--from", "base", "--stdout"],
        ["alembic", "upgrade", "base:heads", "--sql"],
        1.10,
    ),
    ("status vs history", ["schemactl", "status"], ["alembic", "history"], 1.00),
    ("graph vs history", ["schemactl", "graph"], ["alembic", "history"], 1.00),
    ("graph vs heads", ["schemactl", "graph"], ["alembic", "heads"], None),
]
HELP = (["schemactl", "--help"], [sys.executable, "-c", "pass"])


def run(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time (s) and peak memory (MiB) of one run of ``command``."""
    program = command[0] if os.path.isabs(command[0]) else str(BIN / command[0])
    start = time.perf_counter()
    process = subprocess.Popen(
        [program, *command[1:]], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed in {cwd}: {error.strip()[-500:]}")
    if process.stderr:
        process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def compare(
    mine: list[str], base: list[str], cwd: Path, repeat: int
) -> tuple[float, float, float, float]:
    run(mine, cwd), run(base, cwd)  # warm the file cache for both
    times: dict[str, list[float]] = {"mine": [], "base": []}
    peaks = {"mine": 0.0, "base": 0.0}
    for _ in range(repeat):
        for key, command in (("mine", mine), ("base", base)):
            elapsed, peak = run(command, cwd)
            times[key].append(elapsed)
            peaks[key] = max(peaks[key], peak)
    return (
        statistics.median(times["mine"]),
        statistics.median(times["base"]),
        peaks["mine"],
        peaks["base"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r} "
        "(both tools compile every revision file when it is set)"
    )
    header = (
        f"{'revisions':>9}  {'comparison':<30} {'schemactl s':>11} {'baseline s':>10} "
        f"{'ratio':>6} {'target':>6}  {'MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    per_revision: dict[int, float] = {}
    misses = []
    with tempfile.TemporaryDirectory(prefix="schemactl-bench-") as scratch:
        mine, base = HELP
        help_time, base_time, help_peak, _ = compare(mine, base, Path(scratch), args.repeat)
        verdict = "ok" if help_time < 0.25 else "MISS"
        print(
            f"{'-':>9}  {'--help vs python -c pass':<30} {help_time:11.3f} {base_time:10.3f} "
            f"{help_time / base_time:6.2f} {'<0.25s':>6}  {help_peak:9.0f}  {verdict}"
        )
        if verdict != "ok":
            misses.append("--help")
        for size in args.sizes:
            folder = Path(scratch) / f"history-{size}"
            generate(size, folder)
            repeat = args.repeat if size < 10000 else max(3, args.repeat // 2)
            for name, mine, base, target in PAIRS:
                t_mine, t_base, p_mine, p_base = compare(mine, base, folder, repeat)
                ratio = t_mine / t_base
                verdict = "" if target is None else ("ok" if ratio <= target else "MISS")
                if verdict == "MISS":
                    misses.append(f"{name} at {size}")
                shown = "-" if target is None else f"{target:.2f}"
                print(
                    f"{size:>9}  {name:<30} {t_mine:11.3f} {t_base:10.3f} {ratio:6.2f} "
                    f"{shown:>6}  {p_mine:4.0f}/{p_base:<4.0f}  {verdict}"
                )
                if name.startswith("render"):
                    per_revision[size] = t_mine / size
            shutil.rmtree(folder)
    if len(per_revision) > 1:
        small, large = min(per_revision), max(per_revision)
        growth = per_revision[large] / per_revision[small]
        verdict = "ok" if growth <= 1.3 else "MISS"
        if verdict == "MISS":
            misses.append("linearity")
        print(
            f"render time per revision: {per_revision[small] * 1000:.2f} ms at {small}, "
            f"{per_revision[large] * 1000:.2f} ms at {large}: {growth:.2f}x "
            f"(target <= 1.30)  {verdict}"
        )
    print("all targets met" if not misses else f"missed: {', '.join(misses)}")


if __name__ == "__main__":
    main()
