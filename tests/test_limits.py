"""Limits that fit the container, and memory and files counted where they really live.

* ``Limits`` defaults derived from the container's cgroups (v2 and v1 layouts, faked in a
  temporary folder), and environment overrides on top;
* a part's memory meters (a cgroup of its own, and the PSS fallback) count shared memory
  (``MAP_SHARED`` touched by two processes) and ``/dev/shm`` files, and do not count the
  worker's pages a forked child merely shares;
* the scratch clean-up removes what a uid left, never following links.

The attacks that exercise all of this through a whole grade are in test_attacks.py
(``tmpfs_fill``, ``shared_memory``, ``memory_bomb``, ``infinite_loop``).
"""

import mmap
import os
import time

import pytest

from grader.config import GRADE_UNRECLAIMABLE_MB, Limits
from grader.sandbox import cgroup, scratch

MB = 2**20


def fake_cgroup(tmp_path, files, proc_lines):
    """A fake cgroup root (``files``: relative path -> content) and /proc/self/cgroup."""
    root = tmp_path / "cgroup"
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content + "\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("\n".join(proc_lines) + "\n")
    return str(root), str(proc)


# ------------------------------------------------------------- container limits

def test_limits_from_cgroup_v2(tmp_path):
    """cgroup v2 (a container's own cgroup at the root of its cgroup namespace):
    memory.max 768 MB and cpu.max half a CPU."""
    root, proc = fake_cgroup(tmp_path, {"cgroup.controllers": "cpu memory pids",
                                        "memory.max": str(768 * MB), "cpu.max": "50000 100000"},
                             ["0::/"])
    assert cgroup.container_limits(root, proc) == (768 * MB, 0.5)
    limits = Limits.from_env({}, cgroup_root=root, proc_cgroup=proc, cpu_count=2)
    assert limits.memory_mb == 768 - GRADE_UNRECLAIMABLE_MB
    assert limits.wall_seconds == 240.0 and limits.cpu_seconds == 120


def test_limits_from_nested_cgroup_v2(tmp_path):
    """The tightest limit on the way from this process's own cgroup to the root counts;
    "max" is no limit."""
    root, proc = fake_cgroup(tmp_path, {
        "cgroup.controllers": "cpu memory",
        "memory.max": "max", "cpu.max": "max 100000",
        "grader.slice/memory.max": str(2048 * MB), "grader.slice/cpu.max": "150000 100000",
        "grader.slice/grade/memory.max": "max", "grader.slice/grade/cpu.max": "max 100000"},
        ["0::/grader.slice/grade"])
    assert cgroup.container_limits(root, proc) == (2048 * MB, 1.5)
    limits = Limits.from_env({}, cgroup_root=root, proc_cgroup=proc, cpu_count=4)
    assert limits.memory_mb == 1024 and limits.wall_seconds == 120.0 and limits.cpu_seconds == 180


def test_limits_from_cgroup_v1(tmp_path):
    """cgroup v1 (hybrid, with an empty unified hierarchy): memory.limit_in_bytes and
    cpu.cfs_quota_us / cpu.cfs_period_us, "no limit" as -1 or a number near 2**63."""
    root, proc = fake_cgroup(tmp_path, {
        "unified/cgroup.controllers": "",
        "memory/memory.limit_in_bytes": "9223372036854771712",
        "memory/docker/abc/memory.limit_in_bytes": str(1536 * MB),
        "cpu,cpuacct/cpu.cfs_quota_us": "-1", "cpu,cpuacct/cpu.cfs_period_us": "100000",
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000",
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000"},
        ["4:memory:/docker/abc", "2:cpu,cpuacct:/docker/abc", "0::/"])
    assert cgroup.container_limits(root, proc) == (1536 * MB, 2.0)
    limits = Limits.from_env({}, cgroup_root=root, proc_cgroup=proc, cpu_count=8)
    assert limits.memory_mb == 1024 and limits.cpu_seconds == 240


def test_limits_from_cgroup_v1_mounted_at_own_cgroup(tmp_path):
    """A container that sees its own v1 cgroup at the mount point, while
    /proc/self/cgroup names the host's path to it."""
    root, proc = fake_cgroup(tmp_path, {"memory/memory.limit_in_bytes": str(1024 * MB),
                                        "cpu/cpu.cfs_quota_us": "100000",
                                        "cpu/cpu.cfs_period_us": "100000"},
                             ["9:memory:/docker/0123", "3:cpu:/docker/0123"])
    assert cgroup.container_limits(root, proc) == (1024 * MB, 1.0)
    assert Limits.from_env({}, cgroup_root=root, proc_cgroup=proc).memory_mb == 1024 - GRADE_UNRECLAIMABLE_MB


def test_limits_without_cgroup_limits(tmp_path):
    """No cgroup files at all: the fixed defaults of a machine with the CPUs it has."""
    root, proc = fake_cgroup(tmp_path, {}, [])
    assert cgroup.container_limits(root, proc) == (None, None)
    limits = Limits.from_env({}, cgroup_root=root, proc_cgroup=proc, cpu_count=2)
    assert (limits.memory_mb, limits.wall_seconds, limits.cpu_seconds) == (1024, 120.0, 240)


def test_small_container_keeps_room_for_the_grade(tmp_path):
    """However small the container, a part's limit plus the rest of the grade fits in it
    down to the smallest container a grade can run in at all; the part gets no less
    than 128 MB."""
    for memory_mb in (640, 768, 1024, 1280, 1536, 4096):
        limits = Limits.for_container(memory_mb * MB, 1, cpu_count=2)
        assert limits.memory_mb + GRADE_UNRECLAIMABLE_MB <= memory_mb
        assert limits.memory_mb <= 1024
    assert Limits.for_container(512 * MB, 1, cpu_count=2).memory_mb == 128


def test_environment_overrides_the_container(tmp_path):
    root, proc = fake_cgroup(tmp_path, {"cgroup.controllers": "memory",
                                        "memory.max": str(768 * MB)}, ["0::/"])
    limits = Limits.from_env({"TRAIN_GRADER_MEMORY_MB": "500", "TRAIN_GRADER_WALL_SECONDS": "30"},
                             cgroup_root=root, proc_cgroup=proc, cpu_count=2)
    assert limits.memory_mb == 500 and limits.wall_seconds == 30.0
    with pytest.raises(ValueError, match="TRAIN_GRADER_MEMORY_MB"):
        Limits.from_env({"TRAIN_GRADER_MEMORY_MB": "lots"}, cgroup_root=root, proc_cgroup=proc)


# ------------------------------------------------------------------- memory meters

def _hold(size, *, shared, touch_in_child, shm_file=None):
    """Fork a child that maps ``size`` bytes (MAP_SHARED or private), touches them (and
    has its own child touch them too, for shared memory), optionally writes a /dev/shm
    file, and waits. Returns (pid, ready_read_fd)."""
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_read)
            flags = mmap.MAP_SHARED if shared else mmap.MAP_PRIVATE
            memory = mmap.mmap(-1, size, flags=flags)
            for offset in range(0, size, 4096):
                memory[offset] = 1
            if touch_in_child and os.fork() == 0:
                for offset in range(0, size, 4096):
                    memory[offset] = 2
                time.sleep(60)
                os._exit(0)
            if shm_file:
                with open(shm_file, "wb") as handle:
                    handle.write(b"s" * size)
            time.sleep(1)  # the grandchild has touched every page by now
            os.write(ready_write, b"x")
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(ready_write)
    return pid, ready_read


def _stop(pid, ready_read):
    from grader.sandbox import oslimits
    for child in oslimits.descendants(pid):
        os.kill(child, 9)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(ready_read)


def test_pss_meter_counts_shared_memory_once():
    """MAP_SHARED memory touched by a process and its child counts in full (not zero, as
    "private" memory would, nor twice); a /dev/shm file the part's user owns counts too;
    the worker's pages the child only shares (copy-on-write) do not."""
    size = 64 * MB
    uid = os.geteuid()
    folders = scratch.tmpfs_folders()
    # A folder of this test's own: the other tests running at the same time (pytest -n 2)
    # may hold files of the same user in /dev/shm, which the meter would rightly count.
    shm_folder = f"/dev/shm/train-test-{os.getpid()}"
    if "/dev/shm" in folders:
        os.makedirs(shm_folder, exist_ok=True)
    shm_file = os.path.join(shm_folder, "held")
    meter = cgroup.PssMeter(os.getpid(), lambda: scratch.owned_bytes(
        uid, [shm_folder] if os.path.isdir(shm_folder) else []))
    idle, ready = _hold(4096, shared=False, touch_in_child=False)
    try:
        os.read(ready, 1)
        assert meter.charge(idle) < 16 * MB  # a fork shares the parent's pages
    finally:
        _stop(idle, ready)
    pid, ready = _hold(size, shared=True, touch_in_child=True,
                       shm_file=shm_file if "/dev/shm" in folders else None)
    expected = size * (2 if "/dev/shm" in folders else 1)
    try:
        os.read(ready, 1)
        # On a loaded machine the grandchild may still be touching pages when first read
        # (measured once: 116 MB of 128): the most of a few readings over about 3 s counts.
        charged = 0
        for _ in range(6):
            charged = max(charged, meter.charge(pid))
            if charged >= expected - 8 * MB:
                break
            time.sleep(0.5)
    finally:
        _stop(pid, ready)
        if os.path.exists(shm_file):
            os.unlink(shm_file)
        if os.path.isdir(shm_folder):
            os.rmdir(shm_folder)
    assert expected - 8 * MB <= charged <= expected + 24 * MB, charged / MB


@pytest.fixture
def part_cgroup():
    group = cgroup.PartCgroup.create(f"train-test-{os.getpid()}-{time.monotonic_ns()}",
                                     96 * MB, 64)
    if group is None:
        pytest.skip("no writable cgroup with a memory controller here (needs root)")
    yield group
    group.remove()


def _in_group(group, action):
    """Run ``action`` in a forked child that joined ``group``; its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            group.join()
            action()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


def test_part_cgroup_counts_shared_memory_and_dev_shm(part_cgroup):
    """A part's own cgroup is charged for MAP_SHARED memory and /dev/shm files (which
    outlive the process), and the kernel stops the part at the limit (an OOM kill in the
    part's cgroup, not the container's)."""
    shm_file = f"/dev/shm/train-test-cg-{os.getpid()}"

    def write_shm():
        with open(shm_file, "wb") as handle:
            handle.write(b"s" * (40 * MB))

    try:
        _in_group(part_cgroup, write_shm)
        assert part_cgroup.charge() >= 40 * MB  # the file still holds memory
        assert part_cgroup.oom_kills() == 0

        def bomb():
            memory = mmap.mmap(-1, 200 * MB, flags=mmap.MAP_SHARED)
            for offset in range(0, 200 * MB, 4096):
                memory[offset] = 1

        status = _in_group(part_cgroup, bomb)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
        assert part_cgroup.oom_kills() >= 1
        assert part_cgroup.peak() >= 40 * MB
    finally:
        if os.path.exists(shm_file):
            os.unlink(shm_file)


# ------------------------------------------------------------------- scratch clean-up

@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: files of another uid")
def test_clean_removes_what_the_uid_left_without_following_links(tmp_path):
    uid = 299_999  # a sandbox uid no grade uses at the same time (pid % 100000 == 99999)
    scratch_dir = tmp_path / "scratch"
    scratch_dir.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(scratch_dir, 0o1777)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    owned = [scratch_dir / "file", scratch_dir / "link", scratch_dir / "dirlink", scratch_dir / "deep"]
    owned[0].write_bytes(b"x" * 10000)
    owned[1].symlink_to(victim / "keep.txt")
    owned[2].symlink_to(victim)
    path = owned[3]
    path.mkdir()
    depth_top = os.open(path, os.O_RDONLY)
    current = os.dup(depth_top)
    for _ in range(1200):  # deeper than any path can name
        os.mkdir("d", dir_fd=current)
        os.chown("d", uid, uid, dir_fd=current)
        deeper = os.open("d", os.O_RDONLY, dir_fd=current)
        os.close(current)
        current = deeper
    os.symlink(str(victim), "up", dir_fd=current)
    os.close(current)
    os.close(depth_top)
    for entry in owned:
        os.lchown(entry, uid, uid)
    (scratch_dir / "someone-else").write_text("not theirs")
    report = scratch.clean(uid, [str(scratch_dir)])
    assert sorted(os.listdir(scratch_dir)) == ["someone-else"]
    assert (victim / "keep.txt").read_text() == "keep"
    assert report["entries"] >= 4 and report["left"] == 0
