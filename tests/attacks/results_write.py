"""Write a perfect results.json directly, now, and again later from a detached
(double-forked, setsid) process that waits for the grader to finish first."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import json as _json, os as _os, time as _time, ctypes as _ctypes

_FAKE = _json.dumps({"score": 1000, "tests": [], "output": "__MARKER__ forged"})

def _forge():
    for _ in range(2):
        try:
            with open("__RESULTS__", "w") as _handle:
                _handle.write(_FAKE)
        except OSError:
            pass

_forge()
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:                      # the grandchild: detached, outlives its parent
        _ctypes.CDLL(None).prctl(15, b"__MARKER__", 0, 0, 0)
        _deadline = _time.time() + 90
        while _time.time() < _deadline:      # wait for the grader's own file, then replace it
            _time.sleep(0.2)
            try:
                if _FAKE not in open("__RESULTS__").read():
                    _forge()
            except OSError:
                _forge()
        _os._exit(0)
    _os._exit(0)
'''
