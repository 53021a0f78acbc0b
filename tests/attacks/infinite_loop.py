"""Spin forever: in a background thread, in a child process and in the part itself."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import ctypes as _ctypes, os as _os, threading as _threading
def _spin():  # spins without allocating (the wall-time limit is what is tested)
    while True:
        pass
_threading.Thread(target=_spin, daemon=True).start()
if _os.fork() == 0:
    _ctypes.CDLL(None).prctl(15, b"__MARKER__", 0, 0, 0)
    while True:
        pass
while True:
    pass
'''
