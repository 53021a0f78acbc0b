"""Staging a submission: a folder or a .zip with the student's modules at its top level.

Only top-level ``.py`` files are taken; a ``logs/`` folder is listed but not used for
scoring (the grader regenerates every log itself). Everything is read as untrusted
input: folders are walked without recursion or following symlinks, down to a bounded
depth and number of entries (``grader.safefs``); only regular files with one link are
read, size-capped. Zip members are never extracted blindly: names are checked, sizes
capped after decompression, and a corrupt member is reported (the others are still
graded).
"""

import os
import zipfile
import zlib

from grader import safefs
from grader.parts import student_modules

MAX_MODULE_BYTES = 1024 * 1024
MAX_MODULES = 30
#: Files and folders looked at (a folder walk) or members listed (a zip).
MAX_ENTRIES = 10000
#: Folders deep a folder submission is walked (a zipped folder, logs/<run>/<split>/...).
MAX_DEPTH = 8
#: Largest .zip accepted (its central directory is read into memory).
MAX_ZIP_BYTES = 256 * 1024 * 1024
LOGS_FOLDER = "logs"


class SubmissionError(ValueError):
    """The submission cannot be read at all."""


class MemberProblem(ValueError):
    """One file of the submission cannot be used; the message is for the student."""


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
        ``{"modules": [...], "missing": [...], "ignored": [...], "log_runs": int,
        "problems": [...]}``; ``problems`` holds one sentence per file that could not be
        used (corrupt zip member, link, too large), for the student.

    Raises
    ------
    SubmissionError
        If the path does not exist or is not a folder or a readable zip.
    """
    submission = os.fspath(submission)
    os.makedirs(destination, exist_ok=True)
    if os.path.isdir(submission):
        entries, problems = _folder_entries(submission)
    elif zipfile.is_zipfile(submission):
        entries, problems = _zip_entries(submission)
    elif os.path.exists(submission):
        raise SubmissionError(f"submission {submission!r} is neither a folder nor a .zip file")
    else:
        raise SubmissionError(f"submission {submission!r} does not exist")
    prefix = _common_prefix(list(entries))
    found = {"modules": [], "missing": [], "ignored": [], "log_runs": 0, "problems": problems}
    log_runs = set()
    for name in sorted(entries):
        relative = name[len(prefix):] if name.startswith(prefix) else name
        parts = relative.split("/")
        if parts[0] == LOGS_FOLDER and len(parts) > 2:
            log_runs.add(parts[1])
            continue
        if len(parts) == 1 and relative.endswith(".py") and relative.isascii() \
                and relative[:-3].isidentifier() and len(found["modules"]) < MAX_MODULES:
            try:
                content = entries[name]()
            except MemberProblem as problem:
                found["problems"].append(f"{problem}; it was not graded")
                continue
            with open(os.path.join(destination, relative), "wb") as handle:
                handle.write(content)
            found["modules"].append(relative)
        elif "__pycache__" not in parts and not relative.startswith("."):
            found["ignored"].append(relative)
    found["log_runs"] = len(log_runs)
    found["missing"] = [f"{m}.py" for m in student_modules() if f"{m}.py" not in found["modules"]]
    found["ignored"] = found["ignored"][:20]
    found["problems"] = found["problems"][:20]
    return found


def _folder_entries(folder):
    """``{relative name: reader}`` for the regular files of a folder, and problems."""
    listing = safefs.list_files(folder, max_depth=MAX_DEPTH, max_entries=MAX_ENTRIES,
                                skip_dirs=("__pycache__",))
    # A module that is a symlink, FIFO or device is named (it is never opened).
    problems = [f"{line}; it was not graded" for line in listing.skipped
                if line.split(":", 1)[0].endswith(".py")]
    if listing.truncated:
        problems.append(f"your submission holds more than {MAX_ENTRIES} files and folders; "
                        "only the first were looked at")
    entries = {}
    for relative, _ in listing.files:
        entries[relative] = lambda r=relative: _read_file(folder, r)
    return entries, problems


def _read_file(folder, relative):
    try:
        return safefs.read_regular(os.path.join(folder, relative), MAX_MODULE_BYTES, label=relative)
    except safefs.UnsafeFile as problem:
        raise MemberProblem(str(problem)) from None
    except OSError as error:
        raise MemberProblem(f"{relative} could not be read ({error.strerror})") from None


def _zip_entries(path):
    """``{member name: reader}`` for the files of a zip, and problems."""
    if os.path.getsize(path) > MAX_ZIP_BYTES:
        raise SubmissionError(f"submission zip {os.path.basename(path)!r} is larger than "
                              f"{MAX_ZIP_BYTES // 2**20} MB")
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise SubmissionError(f"submission zip {path!r} could not be read: {error}") from None
    problems = []
    if len(infos) > MAX_ENTRIES:
        problems.append(f"your zip holds {len(infos)} files; only the first {MAX_ENTRIES} "
                        "were looked at")
    entries = {}
    for info in infos[:MAX_ENTRIES]:
        name = info.filename
        if info.is_dir() or name.startswith("/") or ".." in name.split("/"):
            continue
        entries[name] = lambda i=info: _read_member(archive, i)
    return entries, problems


def _read_member(archive, info):
    name = info.filename
    if info.file_size > MAX_MODULE_BYTES:
        raise MemberProblem(f"{name} is larger than the {MAX_MODULE_BYTES // 2**20} MB allowed")
    try:
        with archive.open(info) as member:
            content = member.read(MAX_MODULE_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise MemberProblem(f"member {name} of your zip is corrupt ({_first_line(error)}): "
                            "make the zip again from your files") from None
    except (NotImplementedError, RuntimeError) as error:  # unknown compression, encrypted
        raise MemberProblem(f"member {name} of your zip cannot be read ({_first_line(error)}): "
                            "make a plain zip without a password") from None
    if len(content) > MAX_MODULE_BYTES:  # the header understated the size
        raise MemberProblem(f"member {name} of your zip is larger than the "
                            f"{MAX_MODULE_BYTES // 2**20} MB allowed once unpacked")
    return content


def _first_line(error):
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]
