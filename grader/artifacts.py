"""Reading what each sandboxed step left behind, as untrusted input.

Files are opened without following symlinks and with size caps; JSON is parsed
strictly and arrays are loaded without pickle. A step that left nothing is reported
with the reason its process ended.
"""

import dataclasses
import io
import json
import math
import os
import zipfile
import zlib

import numpy as np

from grader import safefs
from grader.results import clean_text

MAX_JSON_BYTES = 4 * 1024 * 1024
#: Largest ``<step>.npz``, on disk and once unpacked (the parts' files are capped at
#: ``TRAIN_GRADER_MAX_FILE_MB``, 64 MB by default, and the probes do not compress).
MAX_NPZ_BYTES = 256 * 1024 * 1024
#: Largest single array: the probes save at most ``probes.MAX_SAVED_ELEMENTS`` (4 million)
#: elements of 8 bytes per array; weights of any model a part can train fit in it too.
MAX_ARRAY_BYTES = 64 * 1024 * 1024
MAX_ARRAYS = 4096
#: Least bytes of arrays one grade reads from all its steps together (the reference's 11
#: parts save 22 MB; a part can otherwise fill every step's file to the cap above and the
#: grading process holds them all until the replay: 1.75 GB measured). Larger profiles get
#: 8 float32 copies of their training and validation inputs (``grade_array_budget``).
MIN_GRADE_ARRAY_BYTES = 160 * 1024 * 1024


class ArrayBudget:
    """The bytes of arrays one grade may still read (see ``grade_array_budget``)."""

    def __init__(self, limit):
        self.limit, self.used = int(limit), 0

    def take(self, size, label):
        if self.used + size > self.limit:
            raise ValueError(f"{label} unpacks to {size // 2**20} MB, which would bring the "
                             f"arrays of this grade's steps to more than the "
                             f"{self.limit // 2**20} MB they may hold in all")
        self.used += size


def grade_array_budget(data):
    """``ArrayBudget`` of one grade on ``data`` (the arrays the sandbox was given)."""
    inputs = sum(data[name].size for name in ("x_train", "x_val") if name in data)
    return ArrayBudget(max(MIN_GRADE_ARRAY_BYTES, 8 * 4 * inputs))


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
    """Bytes of a regular one-link file that is not a symlink, None if absent; ValueError
    (``safefs.UnsafeFile``) if it is anything else or too big."""
    return safefs.read_regular(path, max_bytes)


def _load_arrays(path, budget=None):
    """The arrays of ``<step>.npz``, each held to what the probes write before any of it
    is allocated: ``.npy`` members only (format 1.0 or 2.0), numbers (no object or
    structured dtypes), at most MAX_ARRAY_BYTES each and MAX_NPZ_BYTES in all once
    unpacked, and exactly as many bytes as the header declares."""
    label = os.path.basename(path)
    raw = _read_regular_file(path, MAX_NPZ_BYTES)
    if raw is None:
        return {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
        if len(members) > MAX_ARRAYS:
            raise ValueError(f"{label} holds {len(members)} arrays, more than {MAX_ARRAYS}")
        unpacked = sum(member.file_size for member in members)
        if unpacked > MAX_NPZ_BYTES:
            raise ValueError(f"{label} unpacks to {unpacked // 2**20} MB, more than "
                             f"{MAX_NPZ_BYTES // 2**20} MB")
        if budget is not None:
            budget.take(unpacked, label)
        return {member.filename[:-4]: _load_member(archive, member, label) for member in members}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError) as error:
        raise ValueError(f"{label} is not a valid array file ({type(error).__name__})") from None


def _load_member(archive, member, label):
    where = f"{label}: {member.filename[:80]!r}"
    if not member.filename.endswith(".npy"):
        raise ValueError(f"{where} is not an array (.npy)")
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"array format {version}, expected 1.0 or 2.0")
            shape, fortran_order, dtype = read_header(stream)
        except ValueError as error:
            raise ValueError(f"{where} has a malformed header ({str(error)[:120]})") from None
        if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None:
            raise ValueError(f"array {member.filename[:-4][:80]!r} has dtype {dtype}, expected numbers")
        size = math.prod(shape) * dtype.itemsize
        if min(shape, default=0) < 0 or size > MAX_ARRAY_BYTES:
            raise ValueError(f"{where} declares shape {shape} of {dtype} ({size // 2**20} MB), "
                             f"more than the {MAX_ARRAY_BYTES // 2**20} MB a step may save")
        if member.file_size != stream.tell() + size:
            raise ValueError(f"{where} holds {member.file_size} bytes, but its header "
                             f"declares {stream.tell() + size}")
        data = stream.read(size + 1)  # reading to the end also checks the CRC
    if len(data) != size:
        raise ValueError(f"{where} holds {len(data)} bytes of data, expected {size}")
    order = "F" if fortran_order else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(order=order)


def format_error(error):
    """Student-facing text of a step error recorded by the probes."""
    if not isinstance(error, dict):
        return "the step failed"
    summary = clean_text(error.get("summary", "the step failed"))[:2000]
    trace = clean_text(error.get("traceback", ""))[:3000]
    return f"{summary}\n{trace}".rstrip() if trace else summary


def read_step(outdir, name, part_problem, budget=None):
    """Read ``<outdir>/<name>.json`` (and ``.npz``) into a Step.

    Parameters
    ----------
    outdir : str
    name : str
    part_problem : str or None
        Why the part's process ended abnormally, if it did (see ``PartOutcome.problem``).
    budget : ArrayBudget, optional
        What the grade's steps may still hold in arrays; this step's are taken from it.
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
        arrays = _load_arrays(os.path.join(outdir, name + ".npz"), budget)
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
