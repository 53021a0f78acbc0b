"""Plant the part's result files instead of letting the grader write them: a symlink to
a hidden test file, a hard link, and a FIFO next to a forged record (a careless reader
would block for ever); then leave before the probes overwrite them."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import glob as _glob, json as _json, os as _os
_secret = sorted(_p for _pattern in __SECRETS__ for _p in _glob.glob(_pattern))
_target = _secret[0] if _secret else "/etc/passwd"
# 1. a symlink to a hidden file, read as if it were the step's record
_os.symlink(_target, "descent_paths.json")
# 2. a hard link: to the hidden file if the kernel allows, else to a forged record
try:
    _os.link(_target, "iteration_counts.json")
except OSError:
    with open("forged.json", "w") as _handle:
        _json.dump({"ok": True, "value": {"cases": [[1000, 32]], "outputs": [32]}}, _handle)
    _os.link("forged.json", "iteration_counts.json")
# 3. a forged record whose arrays file is a FIFO nobody will ever write to
with open("concept_answers.json", "w") as _handle:
    _json.dump({"ok": True, "value": {"answers": {"TOO_HIGH_LEARNING_RATE_SYMPTOM": "b",
                                                  "PER_PARAMETER_OPTIMIZER": "b",
                                                  "WHY_NORMALIZE": "c"}}}, _handle)
_os.mkfifo("concept_answers.npz")
_os._exit(0)
'''
