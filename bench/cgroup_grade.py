"""A grade inside a container-sized cgroup: does it fit, how long, how much memory?

Run as root. Makes a cgroup with a memory limit and a CPU quota (cgroup v2 ``memory.max``
and ``cpu.max`` where the v2 hierarchy has those controllers, else cgroup v1
``memory.limit_in_bytes`` and ``cpu.cfs_quota_us``, below this process's own cgroups),
starts ``python -m grader grade SUBMISSION --results TMP`` inside it (the child joins the
cgroup before it executes Python), and reports for each run: wall seconds, the cgroup's
peak memory (``memory.peak`` / ``memory.max_usage_in_bytes``, page cache included), the
peak of what cannot be reclaimed (anonymous + shmem, polled every 50 ms), the score,
and whether the kernel's OOM killer fired in the cgroup. The grader sees the limits
itself (``grader.sandbox.cgroup.container_limits``) and sizes its defaults to them.

Usage::

    sudo python bench/cgroup_grade.py --memory-mb 768 --cpus 0.5 [--runs 3] [--json OUT]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from grader.sandbox import cgroup  # noqa: E402

POLL_SECONDS = 0.05


class BenchGroup:
    """The cgroup(s) one grade runs in."""

    def __init__(self, memory_mb, cpus, root=cgroup.CGROUP_ROOT):
        name = f"train-bench-{os.getpid()}-{time.monotonic_ns()}"
        paths = cgroup.own_paths()
        memory_bytes = int(memory_mb * 2**20)
        period = 100_000
        quota = int(cpus * period)
        v2 = cgroup._v2_root(root)
        v2_controllers = (cgroup._read(os.path.join(v2, "cgroup.controllers")) or "").split() if v2 else []
        self.folders = []
        if {"memory", "cpu"} <= set(v2_controllers):
            self.version = 2
            parent = v2  # the root may hold processes and still delegate controllers
            enabled = (cgroup._read(os.path.join(parent, "cgroup.subtree_control")) or "").split()
            for controller in ("memory", "cpu", "pids"):
                if controller not in enabled and controller in v2_controllers:
                    cgroup._write(os.path.join(parent, "cgroup.subtree_control"), "+" + controller)
            self.memory = os.path.join(parent, name)
            os.mkdir(self.memory)
            self.folders.append(self.memory)
            cgroup._write(os.path.join(self.memory, "memory.max"), memory_bytes)
            if os.path.exists(os.path.join(self.memory, "memory.swap.max")):
                cgroup._write(os.path.join(self.memory, "memory.swap.max"), 0)
            cgroup._write(os.path.join(self.memory, "cpu.max"), f"{quota} {period}")
        else:
            self.version = 1
            memory_mount = cgroup._v1_dir(root, "memory")
            cpu_mount = cgroup._v1_dir(root, "cpu")
            if not memory_mount or not cpu_mount:
                raise SystemExit("no cgroup v2 memory+cpu controllers and no cgroup v1 memory/cpu mounts")
            self.memory = os.path.join(memory_mount, *_parts(paths.get("memory")), name)
            self.cpu = os.path.join(cpu_mount, *_parts(paths.get("cpu")), name)
            for folder in (self.memory, self.cpu):
                os.mkdir(folder)
                self.folders.append(folder)
            cgroup._write(os.path.join(self.memory, "memory.limit_in_bytes"), memory_bytes)
            if os.path.exists(os.path.join(self.memory, "memory.memsw.limit_in_bytes")):
                try:
                    cgroup._write(os.path.join(self.memory, "memory.memsw.limit_in_bytes"), memory_bytes)
                except OSError:
                    pass
            cgroup._write(os.path.join(self.cpu, "cpu.cfs_period_us"), period)
            cgroup._write(os.path.join(self.cpu, "cpu.cfs_quota_us"), quota)

    def join(self):
        """Move the calling process in (used as the child's preexec_fn)."""
        for folder in self.folders:
            cgroup._write(os.path.join(folder, "cgroup.procs"), 0)

    def _file(self, v2_name, v1_name):
        return cgroup._read(os.path.join(self.memory, v2_name if self.version == 2 else v1_name))

    def usage(self):
        return int(self._file("memory.current", "memory.usage_in_bytes") or 0)

    def unreclaimable(self):
        stat = cgroup._keyed(self._file("memory.stat", "memory.stat"))
        if self.version == 2:
            return stat.get("anon", 0) + stat.get("shmem", 0)
        return stat.get("total_rss", 0) + stat.get("total_shmem", 0)

    def peak(self):
        raw = self._file("memory.peak", "memory.max_usage_in_bytes")
        return int(raw) if raw and raw.isdigit() else None

    def oom_kills(self):
        return cgroup._keyed(self._file("memory.events", "memory.oom_control")).get("oom_kill", 0)

    def close(self):
        pids = [int(p) for p in (cgroup._read(os.path.join(self.memory, "cgroup.procs")) or "").split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for folder in reversed(self.folders):
            cgroup._rmdir(folder, attempts=250)


def _parts(path):
    return [p for p in (path or "/").split("/") if p]


def run_once(memory_mb, cpus, submission, timeout):
    group = BenchGroup(memory_mb, cpus)
    results_dir = tempfile.mkdtemp(prefix="train-bench-results-")
    results = os.path.join(results_dir, "results.json")
    log = os.path.join(results_dir, "grade.log")
    polled_usage = polled_unreclaimable = 0
    try:
        started = time.monotonic()
        with open(log, "w") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "grader", "grade", str(submission), "--results", results],
                cwd=HERE, stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=group.join)
            while process.poll() is None:
                polled_usage = max(polled_usage, group.usage())
                polled_unreclaimable = max(polled_unreclaimable, group.unreclaimable())
                if time.monotonic() - started > timeout:
                    process.kill()
                time.sleep(POLL_SECONDS)
        wall = time.monotonic() - started
        try:
            score = json.loads(Path(results).read_text()).get("score")
        except (OSError, ValueError):
            score = None
        peak = group.peak() or polled_usage
        row = {"memory_mb": memory_mb, "cpus": cpus, "cgroup": f"v{group.version}",
               "wall_s": round(wall, 1), "peak_mb": round(peak / 2**20),
               "peak_unreclaimable_mb": round(polled_unreclaimable / 2**20),
               "score": score, "oom_kill": group.oom_kills(), "exit_code": process.returncode}
        text = Path(log).read_text(errors="replace")
        row["part_peaks_mb"] = {line.split("]")[0][1:]: float(line.split(" MB private")[0].split()[-1])
                                for line in text.splitlines()
                                if line.startswith("[") and " MB private" in line}
        if process.returncode or score != 100:
            row["log_tail"] = text[-4000:]
        return row
    finally:
        group.close()
        shutil.rmtree(results_dir, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memory-mb", type=float, default=768)
    parser.add_argument("--cpus", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--submission", default=str(HERE / "solutions"))
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", help="append one JSON line per run to this file")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("run as root: it makes cgroups")
    print("| memory MB | CPUs | cgroup | wall s | peak MB (page cache incl.) | peak anon+shmem MB "
          "| score | OOM kills | largest part MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for _ in range(args.runs):
        row = run_once(args.memory_mb, args.cpus, args.submission, args.timeout)
        print(f"| {row['memory_mb']:g} | {row['cpus']:g} | {row['cgroup']} | {row['wall_s']} | "
              f"{row['peak_mb']} | {row['peak_unreclaimable_mb']} | {row['score']} | "
              f"{row['oom_kill']} | {max(row['part_peaks_mb'].values(), default=0):g} |", flush=True)
        if "log_tail" in row:
            print(row["log_tail"], file=sys.stderr)
        if args.json:
            with open(args.json, "a") as handle:
                handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
