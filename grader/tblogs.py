"""Reading a run's TensorBoard logs with TensorBoard's own event reader.

Accepts both what ``keras.callbacks.TensorBoard`` writes (``train/`` and ``validation/``
subfolders with ``epoch_loss`` and ``epoch_accuracy``) and hand-written ``tf.summary``
logs (tags such as ``loss``, ``val_accuracy``). Event files are untrusted: the run folder
is walked without recursion to a bounded depth and number of entries (``grader.safefs``),
only regular files with one link are taken (symlinks, FIFOs, devices and hard links are
skipped, never opened), their size is capped per run and per experiment, and they are
copied into a private folder of the grader's before TensorBoard's reader sees them.
"""

import contextlib
import dataclasses
import math
import os
import sys
import tempfile
import types

# Use TensorBoard's stub instead of importing TensorFlow in the grading process. Where
# TensorFlow is already imported (a notebook's kernel running the self-check), the stub
# would take TensorBoard's TF 2 API away from code that writes logs later (keras-tuner's
# HParams callback): TensorBoard then reads through TensorFlow itself.
if "tensorflow" not in sys.modules:
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))

from tensorboard.backend.event_processing import event_accumulator  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from grader import safefs  # noqa: E402

#: Event files read for one run (a run of the assignment logs well under 1 MB).
MAX_LOG_BYTES = 8 * 1024 * 1024
#: Event files under one experiment's log_dir, all runs together.
MAX_EXPERIMENT_LOG_BYTES = 32 * 1024 * 1024
#: Event files read in one grade, every experiment together (TensorBoard's reader parses
#: about 1 MB a second of tiny records: 400 MB of them once outlasted the grade's time).
MAX_GRADE_LOG_BYTES = 64 * 1024 * 1024
#: Folders deep and entries looked at under a run folder (log_dir for the experiment).
MAX_LOG_DEPTH = 6
MAX_LOG_ENTRIES = 2000
_SIZE_GUIDANCE = {event_accumulator.TENSORS: 0, event_accumulator.SCALARS: 0,
                  event_accumulator.HISTOGRAMS: 0}


class LogError(ValueError):
    """The run's logs are missing or unreadable."""


@dataclasses.dataclass
class RunLog:
    """Everything recorded for one run.

    Attributes
    ----------
    path : str
    scalars : dict
        ``(subfolder, tag) -> {step: value}``.
    histograms : dict
        ``(subfolder, tag) -> sorted list of steps``.
    """

    path: str
    scalars: dict
    histograms: dict

    def series(self, kind, split):
        """Per-epoch values of ``kind`` ("loss" or "accuracy") for ``split`` ("train" or
        "validation"), ordered by step; None when not recorded."""
        for (folder, tag), values in sorted(self.scalars.items()):
            if _classify(folder, tag) == (kind, split):
                return [values[step] for step in sorted(values)]
        return None

    def histogram_tags(self):
        """Distinct histogram series with at least one step."""
        return sorted(f"{folder}/{tag}".lstrip("/") for (folder, tag), steps in
                      self.histograms.items() if steps)

    def weight_histogram_tags(self):
        """Histogram series of weights: bias histograms are left out when named so."""
        return [tag for tag in self.histogram_tags() if "bias" not in tag.lower()]


def _classify(folder, tag):
    name = tag.lower()
    if "vs_iterations" in name or "learning_rate" in name:
        return None
    if name.endswith("loss"):
        kind = "loss"
    elif name.endswith("accuracy") or name.endswith("acc"):
        kind = "accuracy"
    else:
        return None
    is_validation = "val" in folder.lower().split(os.sep)[-1] if folder else False
    is_validation = is_validation or name.startswith(("val_", "epoch_val_", "validation"))
    return kind, "validation" if is_validation else "train"


def _event_files(folder, max_depth):
    """Event files under ``folder`` that may be read: ``(relative path, size)`` list, and
    what was skipped (one line each)."""
    listing = safefs.list_files(folder, max_depth=max_depth, max_entries=MAX_LOG_ENTRIES)
    files, skipped = [], list(listing.skipped)
    for relative, info in listing.files:
        if "tfevents" not in os.path.basename(relative):
            continue
        if info.st_nlink != 1:
            skipped.append(f"{relative}: a hard link to another file, not read")
        else:
            files.append((relative, info.st_size))
    return files, [line for line in skipped if "tfevents" in line or "deep" in line
                   or "more than" in line]


_grade_log_bytes_left = None


@contextlib.contextmanager
def grade_budget():
    """Within it, the event files read by ``read_run`` and ``read_hparams_sessions``
    together stay under ``MAX_GRADE_LOG_BYTES``: one grade."""
    global _grade_log_bytes_left
    previous, _grade_log_bytes_left = _grade_log_bytes_left, MAX_GRADE_LOG_BYTES
    try:
        yield
    finally:
        _grade_log_bytes_left = previous


def _charge(total, where):
    """Take ``total`` bytes of event files from the grade's budget, or raise LogError."""
    global _grade_log_bytes_left
    if _grade_log_bytes_left is None:
        return
    if total > _grade_log_bytes_left:
        raise LogError(f"the event files under {where!r} ({total / 2**20:.1f} MB) would bring "
                       f"the logs read in this grade past the "
                       f"{MAX_GRADE_LOG_BYTES // 2**20} MB read in all (log only the runs "
                       f"asked for, with the TensorBoard callback's own files)")
    _grade_log_bytes_left -= total


def _check_experiment_size(log_dir):
    """LogError when the event files of all runs under ``log_dir`` are too large together."""
    files, _ = _event_files(log_dir, MAX_LOG_DEPTH + 1)
    total = sum(size for _, size in files)
    if total > MAX_EXPERIMENT_LOG_BYTES:
        raise LogError(f"the event files under {os.path.basename(log_dir)!r} take "
                       f"{total // 2**20} MB in all, more than the "
                       f"{MAX_EXPERIMENT_LOG_BYTES // 2**20} MB read per experiment")


def _private_copy(run_dir, files, folder):
    """Copy the accepted event files of ``run_dir`` into ``folder``; the folders holding them."""
    copied, folders = 0, set()
    for relative, _ in files:
        target = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        try:
            copied += safefs.copy_regular(os.path.join(run_dir, relative), target,
                                          MAX_LOG_BYTES - copied, label=relative)
        except safefs.UnsafeFile as problem:
            raise LogError(f"logs under {os.path.basename(run_dir)!r}: {problem}") from None
        folders.add(os.path.dirname(relative))
    return sorted(folders)


def read_run(run_dir):
    """Read one run directory into a RunLog. Raises LogError if it holds no readable events."""
    name = os.path.basename(run_dir)
    if not os.path.isdir(run_dir) or os.path.islink(run_dir):
        raise LogError(f"run directory {name!r} does not exist")
    _check_experiment_size(os.path.dirname(run_dir))
    files, skipped = _event_files(run_dir, MAX_LOG_DEPTH)
    if not files:
        detail = f" (skipped: {'; '.join(skipped[:3])})" if skipped else ""
        raise LogError(f"run directory {name!r} holds no TensorBoard event files{detail}")
    total = sum(size for _, size in files)
    if total > MAX_LOG_BYTES:
        raise LogError(f"the event files under {name!r} take {total // 2**20} MB, more than the "
                       f"{MAX_LOG_BYTES // 2**20} MB read per run")
    _charge(total, name)
    private = tempfile.mkdtemp(prefix="train-grader-logs-")
    try:
        scalars, histograms = {}, {}
        for folder in _private_copy(run_dir, files, private):
            _accumulate(os.path.join(private, folder), folder, scalars, histograms)
    finally:
        safefs.remove_tree(private)
    return RunLog(path=run_dir, scalars=scalars, histograms=histograms)


def _accumulate(folder, relative, scalars, histograms):
    """Add the events of the (private) ``folder`` to ``scalars`` and ``histograms``."""
    accumulator = event_accumulator.EventAccumulator(folder, size_guidance=_SIZE_GUIDANCE)
    try:
        accumulator.Reload()
        _collect_tags(accumulator, relative, scalars, histograms)
    except Exception as error:  # corrupt or hostile files (a GradeTimeout is not an Exception)
        raise LogError(f"could not read the event files in {relative or '.'}: "
                       f"{type(error).__name__}") from None


def _collect_tags(accumulator, relative, scalars, histograms):
    tags = accumulator.Tags()
    for tag in tags.get(event_accumulator.TENSORS, []):
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        events = accumulator.Tensors(tag)
        if plugin == "scalars":
            values = scalars.setdefault((relative, tag), {})
            for event in events:
                # One number: a forged shape would make TensorBoard allocate all of it.
                if math.prod(d.size for d in event.tensor_proto.tensor_shape.dim) == 1:
                    values[event.step] = float(tensor_util.make_ndarray(event.tensor_proto))
        elif plugin == "histograms":
            histograms[(relative, tag)] = sorted({event.step for event in events})
    for tag in tags.get(event_accumulator.SCALARS, []):
        values = scalars.setdefault((relative, tag), {})
        for event in accumulator.Scalars(tag):
            values[event.step] = float(event.value)
    for tag in tags.get(event_accumulator.HISTOGRAMS, []):
        histograms[(relative, tag)] = sorted({e.step for e in accumulator.Histograms(tag)})


def list_runs(log_dir):
    """Names of the subfolders of ``log_dir`` (candidate run directories)."""
    if not os.path.isdir(log_dir):
        return []
    return sorted(name for name in os.listdir(log_dir)
                  if os.path.isdir(os.path.join(log_dir, name))
                  and not os.path.islink(os.path.join(log_dir, name)))


#: HParams sessions read under one search's log folder (one per trial; a search of the
#: assignment has a handful).
MAX_HPARAMS_SESSIONS = 200
_HPARAMS_START_TAG = "_hparams_/session_start_info"


def read_hparams_sessions(log_dir):
    """The TensorBoard HParams sessions logged under ``log_dir`` (what keras-tuner's
    TensorBoard support and ``hparams_api.KerasCallback`` write: one session per trial).

    Returns ``(sessions, problems)``: ``sessions`` a list of ``{"folder": relative folder,
    "hparams": {name: number, string or bool}}``, one per folder holding a session's
    start record; ``problems`` what was skipped or could not be read. The event files are
    found, bounded and copied as in ``read_run`` (``MAX_LOG_BYTES`` in all). Raises LogError when
    ``log_dir`` is missing or its event files are too large.
    """
    from tensorboard.plugins.hparams import plugin_data_pb2
    if not os.path.isdir(log_dir) or os.path.islink(log_dir):
        raise LogError(f"log folder {os.path.basename(log_dir)!r} does not exist")
    _check_experiment_size(log_dir)
    files, problems = _event_files(log_dir, MAX_LOG_DEPTH)
    _charge(min(sum(size for _, size in files), MAX_LOG_BYTES), os.path.basename(log_dir))
    sessions = []
    private = tempfile.mkdtemp(prefix="train-grader-hparams-")
    try:
        for folder in _private_copy(log_dir, files, private)[:MAX_HPARAMS_SESSIONS]:
            accumulator = event_accumulator.EventAccumulator(
                os.path.join(private, folder), size_guidance=_SIZE_GUIDANCE)
            try:
                accumulator.Reload()
                if _HPARAMS_START_TAG not in accumulator.Tags().get(event_accumulator.TENSORS, []):
                    continue
                content = accumulator.SummaryMetadata(_HPARAMS_START_TAG).plugin_data.content
                data = plugin_data_pb2.HParamsPluginData.FromString(content)
            except Exception as error:  # corrupt or hostile files
                problems.append(f"{folder or '.'}: could not be read ({type(error).__name__})")
                continue
            hparams = {}
            for name, value in list(data.session_start_info.hparams.items())[:50]:
                kind = value.WhichOneof("kind")
                if kind in ("number_value", "string_value", "bool_value"):
                    hparams[str(name)[:100]] = getattr(value, kind) if kind != "string_value" \
                        else getattr(value, kind)[:200]
            sessions.append({"folder": folder, "hparams": hparams})
    finally:
        safefs.remove_tree(private)
    return sessions, problems

