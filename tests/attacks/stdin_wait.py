"""Wait for input: read stdin to the end, then try the controlling terminal."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import os as _os, sys as _sys
_sys.stdin.read()
try:
    _os.open("/dev/tty", _os.O_RDONLY)
except OSError:
    pass
input("answer? ")
'''
