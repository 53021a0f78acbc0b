"""Fill /dev/shm (memory) and /tmp, /var/tmp (disk) with files that outlive the part: a
few big files, a folder 1,500 levels deep and links to a file and a folder of the
grader's (in /var/tmp), then wait for the wall-time limit with all of it left behind."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import os as _os, time as _time
_chunk = b"m" * (16 * 2**20)
for _folder in ("/tmp", "/var/tmp"):
    try:
        with open(f"{_folder}/__MARKER__-disk", "wb") as _handle:
            for _ in range(3):
                _handle.write(_chunk)
    except OSError:
        pass
try:
    _os.symlink("__CANARY__", "/var/tmp/__MARKER__-link")
    _os.symlink(_os.path.dirname("__CANARY__"), "/var/tmp/__MARKER__-dirlink")
    _os.mkdir("/var/tmp/__MARKER__-deep")
    _os.chdir("/var/tmp/__MARKER__-deep")
    for _ in range(1500):
        _os.mkdir("d")
        _os.chdir("d")
    _os.symlink("__CANARY__", "link")
    _os.chdir("/")
except OSError as _error:
    print("__MARKER__ could not write /var/tmp:", _error)
for _i in range(40):  # 640 MB in all, far over the test's memory limit
    try:
        with open(f"/dev/shm/__MARKER__-{_i}", "wb") as _handle:
            _handle.write(_chunk)
    except OSError as _error:
        print("__MARKER__ /dev/shm:", _error)
        break
_time.sleep(600)
'''
