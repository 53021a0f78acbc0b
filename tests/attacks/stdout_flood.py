"""Flood stdout and stderr: from the part itself and from a detached child, without end."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import ctypes as _ctypes, os as _os, sys as _sys
_line = "__MARKER__ " + "spam " * 200 + "\n"
if _os.fork() == 0:
    _os.setsid()
    _ctypes.CDLL(None).prctl(15, b"__MARKER__", 0, 0, 0)
    while True:
        _os.write(2, _line.encode())
while True:
    _sys.stdout.write(_line)
'''
