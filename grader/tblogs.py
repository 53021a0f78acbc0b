"""Reading a run's TensorBoard logs with TensorBoard's own event reader.

Accepts both what ``keras.callbacks.TensorBoard`` writes (``train/`` and ``validation/``
subfolders with ``epoch_loss`` and ``epoch_accuracy``) and hand-written ``tf.summary``
logs (tags such as ``loss``, ``val_accuracy``). Event files are untrusted: symlinks and
non-regular files are ignored and the total size read is capped.
"""

import dataclasses
import os
import sys
import types

# Use TensorBoard's stub instead of importing TensorFlow in the grading process.
sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))

from tensorboard.backend.event_processing import event_accumulator  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

MAX_LOG_BYTES = 64 * 1024 * 1024
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


def _event_folders(run_dir):
    """Folders under ``run_dir`` holding event files, without following symlinks."""
    total = 0
    folders = set()
    for root, dirs, files in os.walk(run_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(root, d)))
        for name in files:
            path = os.path.join(root, name)
            if "tfevents" not in name or os.path.islink(path) or not os.path.isfile(path):
                continue
            total += os.path.getsize(path)
            if total > MAX_LOG_BYTES:
                raise LogError(f"logs under {os.path.basename(run_dir)} exceed "
                               f"{MAX_LOG_BYTES // 2**20} MB")
            folders.add(root)
    return sorted(folders)


def read_run(run_dir):
    """Read one run directory into a RunLog. Raises LogError if it holds no events."""
    if not os.path.isdir(run_dir) or os.path.islink(run_dir):
        raise LogError(f"run directory {os.path.basename(run_dir)!r} does not exist")
    scalars, histograms = {}, {}
    folders = _event_folders(run_dir)
    if not folders:
        raise LogError(f"run directory {os.path.basename(run_dir)!r} holds no TensorBoard event files")
    for folder in folders:
        relative = os.path.relpath(folder, run_dir)
        relative = "" if relative == "." else relative
        accumulator = event_accumulator.EventAccumulator(folder, size_guidance=_SIZE_GUIDANCE)
        try:
            accumulator.Reload()
        except Exception as error:  # corrupt or hostile files
            raise LogError(f"could not read the event files in {relative or '.'}: "
                           f"{type(error).__name__}") from None
        tags = accumulator.Tags()
        for tag in tags.get(event_accumulator.TENSORS, []):
            plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
            events = accumulator.Tensors(tag)
            if plugin == "scalars":
                values = scalars.setdefault((relative, tag), {})
                for event in events:
                    values[event.step] = float(tensor_util.make_ndarray(event.tensor_proto))
            elif plugin == "histograms":
                histograms[(relative, tag)] = sorted({event.step for event in events})
        for tag in tags.get(event_accumulator.SCALARS, []):
            values = scalars.setdefault((relative, tag), {})
            for event in accumulator.Scalars(tag):
                values[event.step] = float(event.value)
        for tag in tags.get(event_accumulator.HISTOGRAMS, []):
            histograms[(relative, tag)] = sorted({e.step for e in accumulator.Histograms(tag)})
    return RunLog(path=run_dir, scalars=scalars, histograms=histograms)


def list_runs(log_dir):
    """Names of the subfolders of ``log_dir`` (candidate run directories)."""
    if not os.path.isdir(log_dir):
        return []
    return sorted(name for name in os.listdir(log_dir)
                  if os.path.isdir(os.path.join(log_dir, name))
                  and not os.path.islink(os.path.join(log_dir, name)))
