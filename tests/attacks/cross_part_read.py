"""An earlier part leaves a file in its own folder and a later part of the same grade
reads it: the channel a later experiment could use to load an earlier part's trained
weights and claim them as its own training. As root, a finished part's folder becomes the
grader's (0700), so the read fails; the later part then keeps every point."""

BASE = "solutions"
PARTS = ("architecture", "concepts", "backprop")
REPLACEMENTS = (("concepts.py", 'WHY_NORMALIZE = "c"',
                 'WHY_NORMALIZE = "c"\nopen("cross_part_marker.txt", "w").write("weights")'),)
TARGET = "backprop.py"
ZERO = ()
CODE = r'''
import os as _os
try:
    with open(_os.path.join(_os.path.dirname(_os.getcwd()), "concepts",
                            "cross_part_marker.txt")) as _handle:
        _handle.read()
except OSError:
    pass
else:
    raise RuntimeError("__MARKER__ read the concepts part's folder")
'''
