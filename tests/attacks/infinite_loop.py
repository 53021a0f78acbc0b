"""Spin forever: in a background thread, in a child process and in the part itself."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import ctypes as _ctypes, os as _os, threading as _threading
_threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()
if _os.fork() == 0:
    _ctypes.CDLL(None).prctl(15, b"__MARKER__", 0, 0, 0)
    while True:
        pass
while True:
    pass
'''
