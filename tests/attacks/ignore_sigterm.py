"""Ignore SIGTERM (and SIGINT, SIGHUP) in the part and in a detached child, and never end."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import ctypes as _ctypes, os as _os, signal as _signal, time as _time
for _sig in (_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP):
    _signal.signal(_sig, _signal.SIG_IGN)
if _os.fork() == 0:
    _os.setsid()
    _ctypes.CDLL(None).prctl(15, b"__MARKER__", 0, 0, 0)
    while True:
        _time.sleep(1)
while True:
    _time.sleep(1)
'''
