"""Reading what each sandboxed step left behind, as untrusted input.

Files are opened without following symlinks and with size caps; JSON is parsed
strictly and arrays are loaded without pickle. A step that left nothing is reported
with the reason its process ended.
"""

import dataclasses
import json
import os
import stat
import zipfile

import numpy as np

MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_NPZ_BYTES = 256 * 1024 * 1024


@dataclasses.dataclass
class Step:
    """The outcome of one probe step.

    Attributes
    ----------
    name : str
    ok : bool
        True when the student code ran to the end of the step.
    value : object
        JSON data the step recorded (None when not ok).
    arrays : dict of str to np.ndarray
    error : str or None
        Student-facing explanation when not ok.
    outdir : str
        The part's output folder (TensorBoard logs live under it).
    """

    name: str
    ok: bool
    outdir: str
    value: object = None
    arrays: dict = dataclasses.field(default_factory=dict)
    error: str | None = None


def _read_regular_file(path, max_bytes):
    """Bytes of a regular file that is not a symlink, or None if absent; ValueError if too big."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a FIFO must not block
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ValueError(f"{os.path.basename(path)} could not be opened safely ({error.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{os.path.basename(path)} is not a regular file")
        if info.st_nlink != 1:  # a hard link to some other file, e.g. one of the grader's
            raise ValueError(f"{os.path.basename(path)} is a link to another file")
        if info.st_size > max_bytes:
            raise ValueError(f"{os.path.basename(path)} is larger than {max_bytes // 2**20} MB")
        return handle.read(max_bytes + 1)


def _load_arrays(path):
    raw = _read_regular_file(path, MAX_NPZ_BYTES)
    if raw is None:
        return {}
    import io
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{os.path.basename(path)} is not a valid array file ({type(error).__name__})") from None
    for name, array in arrays.items():
        if array.dtype.kind not in "biuf":
            raise ValueError(f"array {name!r} has dtype {array.dtype}, expected numbers")
    return arrays


def format_error(error):
    """Student-facing text of a step error recorded by the probes."""
    if not isinstance(error, dict):
        return "the step failed"
    summary = str(error.get("summary", "the step failed"))[:2000]
    trace = str(error.get("traceback", ""))[:3000]
    return f"{summary}\n{trace}".rstrip() if trace else summary


def read_step(outdir, name, part_problem):
    """Read ``<outdir>/<name>.json`` (and ``.npz``) into a Step.

    Parameters
    ----------
    outdir : str
    name : str
    part_problem : str or None
        Why the part's process ended abnormally, if it did (see ``PartOutcome.problem``).
    """
    try:
        raw = _read_regular_file(os.path.join(outdir, name + ".json"), MAX_JSON_BYTES)
        if raw is None:
            reason = part_problem or "the process ended before this step finished " \
                "(did your code call os._exit(), exit the interpreter, or crash it?)"
            return Step(name, False, outdir, error=reason)
        record = json.loads(raw)
        if not isinstance(record, dict) or not isinstance(record.get("ok"), bool):
            raise ValueError("the step's record is malformed")
        if not record["ok"]:
            message = format_error(record.get("error"))
            if part_problem:
                message = f"{message}\n({part_problem})"
            return Step(name, False, outdir, error=message)
        arrays = _load_arrays(os.path.join(outdir, name + ".npz"))
        return Step(name, True, outdir, value=decode_nonfinite(record.get("value")), arrays=arrays)
    except RecursionError:
        return Step(name, False, outdir, error="the grader could not read this step's results: "
                                               "they are nested too deeply (was a result file altered?)")
    except (ValueError, UnicodeDecodeError) as problem:
        return Step(name, False, outdir, error=f"the grader could not read this step's results: "
                                               f"{problem} (was a result file altered?)")


def decode_nonfinite(value):
    """Turn the probes' ``{"nonfinite": "nan"}`` tags back into floats, everywhere in ``value``."""
    if isinstance(value, dict):
        if len(value) == 1 and value.get("nonfinite") in ("nan", "inf", "-inf"):
            return float(value["nonfinite"])
        return {k: decode_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_nonfinite(v) for v in value]
    return value


def finite(value):
    """A float from a JSON value that may hold a tagged non-finite number."""
    if isinstance(value, dict) and "nonfinite" in value:
        return float(value["nonfinite"])
    return float(value)
