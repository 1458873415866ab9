"""Time `schemactl envs` on eight environments, two of them on servers that never answer.

The project is this repository's (its models and history, its two databases), given eight
environments of its own: six SQLite databases brought to head, and a PostgreSQL and a MariaDB
environment whose URLs point at a port that takes connections and never answers. Each
database's read waits at most --timeout seconds; they are read at once, so the command should
cost about one timeout, not two. The baseline, measured in the same run, is `schemactl status`
on one of the SQLite environments (one database read, start-up included).

    python benchmarks/envs.py                 # target: under 3 s (the default --timeout, 1.5 s)
    python benchmarks/envs.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_S = 3.0


def project(folder: Path, silent_port: int) -> Path:
    for name in ("schema", "versions", "reporting", "tools"):
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    ini = (REPO / "alembic.ini").read_text()
    first = re.search(r"^\[schemactl\.env\.", ini, re.M)
    assert first is not None
    head, rest = ini[: first.start()], ini[first.start() :]
    tail = rest[rest.index("\n[post_write_hooks]") :]
    envs = "".join(
        f"[schemactl.env.lite{n}]\ndialect = sqlite\ndefault_url = sqlite:///{folder}/l{n}.db\n"
        f"reporting.default_url = sqlite:///{folder}/r{n}.db\n\n"
        for n in range(6)
    )
    hung = f"127.0.0.1:{silent_port}"
    envs += (
        f"[schemactl.env.pg]\ndialect = postgresql\ndefault_url = postgresql://u@{hung}/x\n"
        f"reporting.default_url = postgresql://u@{hung}/y\n\n"
        f"[schemactl.env.maria]\ndialect = mariadb\ndefault_url = mariadb://u@{hung}/x\n"
        f"reporting.default_url = mariadb://u@{hung}/y\n\n"
    )
    head = head.replace("default_env = dev", "default_env = lite0")
    (folder / "alembic.ini").write_text(head + envs + tail)
    for n in range(6):
        for database in ("", "-n reporting "):
            subprocess.run(
                f"{BIN}/schemactl {database}--env lite{n} upgrade",
                shell=True,
                cwd=folder,
                check=True,
                capture_output=True,
            )
    return folder


def timed(command: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1.5)
    args = parser.parse_args()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with tempfile.TemporaryDirectory(prefix="schemactl-envs-") as tmp:
        folder = project(Path(tmp), listener.getsockname()[1])
        envs = [str(BIN / "schemactl"), "envs", "--timeout", str(args.timeout)]
        base = [str(BIN / "schemactl"), "--env", "lite0", "status"]
        mine, baseline = [], []
        for _ in range(args.repeat):
            baseline.append(timed(base, folder))
            mine.append(timed(envs, folder))
    listener.close()
    m, b = statistics.median(mine), statistics.median(baseline)
    print(f"envs, 16 databases (4 never answer, timeout {args.timeout:g} s): {m:.2f} s median")
    print(f"baseline, status of one SQLite database:                       {b:.2f} s median")
    print(f"ratio envs / status: {m / b:.2f}x; target: under {TARGET_S:g} s -> ", end="")
    print("met" if m < TARGET_S else "NOT met")


if __name__ == "__main__":
    main()
