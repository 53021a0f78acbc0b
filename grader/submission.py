"""Staging a submission: a folder or a .zip with the student's modules at its top level.

Only top-level ``.py`` files are taken (regular files, size-capped); a ``logs/`` folder
is listed but not used for scoring (the grader regenerates every log itself). Zip
members are never extracted blindly: names are checked and sizes capped.
"""

import os
import stat
import zipfile

from grader.config import STUDENT_MODULES

MAX_MODULE_BYTES = 1024 * 1024
MAX_MODULES = 30
LOGS_FOLDER = "logs"


class SubmissionError(ValueError):
    """The submission cannot be read at all."""


def _common_prefix(names):
    """If every file sits in one top folder (a zipped folder), that folder's name + '/'."""
    tops = {name.split("/", 1)[0] for name in names if "/" in name}
    loose = [name for name in names if "/" not in name]
    if len(tops) == 1 and not loose:
        return tops.pop() + "/"
    return ""


def stage(submission, destination):
    """Copy the submission's modules into ``destination`` and describe what was found.

    Parameters
    ----------
    submission : str or Path
        A folder, or a .zip file.
    destination : str or Path
        An empty folder to receive the modules.

    Returns
    -------
    dict
        ``{"modules": [...], "missing": [...], "ignored": [...], "log_runs": int}``.

    Raises
    ------
    SubmissionError
        If the path does not exist or is not a folder or a readable zip.
    """
    submission = os.fspath(submission)
    os.makedirs(destination, exist_ok=True)
    if os.path.isdir(submission):
        entries = _folder_entries(submission)
    elif zipfile.is_zipfile(submission):
        entries = _zip_entries(submission)
    elif os.path.exists(submission):
        raise SubmissionError(f"submission {submission!r} is neither a folder nor a .zip file")
    else:
        raise SubmissionError(f"submission {submission!r} does not exist")
    names = list(entries)
    prefix = _common_prefix(names)
    found = {"modules": [], "missing": [], "ignored": [], "log_runs": 0}
    log_runs = set()
    for name in sorted(names):
        relative = name[len(prefix):] if name.startswith(prefix) else name
        parts = relative.split("/")
        if parts[0] == LOGS_FOLDER and len(parts) > 2:
            log_runs.add(parts[1])
            continue
        if len(parts) == 1 and relative.endswith(".py") and relative.isascii() \
                and relative[:-3].isidentifier() and len(found["modules"]) < MAX_MODULES:
            content = entries[name]()
            if content is None:
                found["ignored"].append(relative + " (larger than 1 MB)")
                continue
            with open(os.path.join(destination, relative), "wb") as handle:
                handle.write(content)
            found["modules"].append(relative)
        elif "__pycache__" not in parts and not relative.startswith("."):
            found["ignored"].append(relative)
    found["log_runs"] = len(log_runs)
    found["missing"] = [f"{m}.py" for m in STUDENT_MODULES if f"{m}.py" not in found["modules"]]
    found["ignored"] = found["ignored"][:20]
    return found


def _folder_entries(folder):
    entries = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not os.path.islink(os.path.join(root, d))]
        for name in files:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                continue
            entries[relative] = (lambda p=path, size=info.st_size:
                                 None if size > MAX_MODULE_BYTES else open(p, "rb").read())
        if len(entries) > 10000:
            break
    return entries


def _zip_entries(path):
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise SubmissionError(f"submission zip {path!r} could not be read: {error}") from None
    entries = {}
    for info in infos[:10000]:
        name = info.filename
        if info.is_dir() or name.startswith("/") or ".." in name.split("/"):
            continue
        entries[name] = (lambda i=info: None if i.file_size > MAX_MODULE_BYTES
                         else archive.open(i).read(MAX_MODULE_BYTES + 1)[:MAX_MODULE_BYTES])
    return entries


