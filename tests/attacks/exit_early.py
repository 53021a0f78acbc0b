"""Write forged "ok" step records into the part's folder (one of them nested 100,000
levels deep), then leave with os._exit(0) before the grader's probes can write theirs."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import json as _json, os as _os
for _name, _value in {
        "concept_answers": {"answers": {"TOO_HIGH_LEARNING_RATE_SYMPTOM": "zz", "PER_PARAMETER_OPTIMIZER": 7,
                                 "WHY_NORMALIZE": None}},
        "descent_paths": {"cases": [[0.1, 1, 0.0]], "outputs": [[1.0]]}}.items():
    with open(_name + ".json", "w") as _handle:
        _json.dump({"ok": True, "value": _value}, _handle)
with open("iteration_counts.json", "w") as _handle:
    _handle.write('{"ok": true, "value": ' + "[" * 100000 + "]" * 100000 + "}")
_os._exit(0)
'''
