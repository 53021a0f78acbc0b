"""Hold memory that is shared, not private: an anonymous MAP_SHARED mapping touched by the
part and by a child it forks (each page then belongs to two processes), then sleep."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import ctypes as _ctypes, mmap as _mmap, os as _os, time as _time
_size = 480 * 2**20
_shared = _mmap.mmap(-1, _size, flags=_mmap.MAP_SHARED)
_half = _size // 2
if _os.fork() == 0:
    _ctypes.CDLL(None).prctl(15, b"__MARKER__", 0, 0, 0)
    for _offset in range(0, _size, 4096):  # the child touches every page, the part too
        _shared[_offset] = 1
    _time.sleep(600)
    _os._exit(0)
for _offset in range(0, _size, 4096):
    _shared[_offset] = 2
_time.sleep(600)
'''
