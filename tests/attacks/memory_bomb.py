"""Allocate memory without bound, in a detached grandchild and in the part itself."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import ctypes as _ctypes, os as _os
if _os.fork() == 0:
    _os.setsid()
    _ctypes.CDLL(None).prctl(15, b"__MARKER__", 0, 0, 0)
    _blocks = []
    try:
        while True:
            _blocks.append(b"x" * (32 * 2**20))
    finally:
        _os._exit(0)
_blocks = []
while True:
    _blocks.append(b"y" * (32 * 2**20))
'''
