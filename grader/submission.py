"""Staging a submission: a folder or a .zip with the student's modules at its top level.

The modules are taken from the folder that holds most of them: the top level, one folder
(a zipped folder), or a deeper folder; a ``logs/`` folder is listed but not used for
scoring (the grader regenerates every log itself). When the submission is not what is
expected (a notebook, modules in a nested folder, other files, no module at all),
``found["summary"]`` says in one paragraph what was found and what is expected, naming
the files; grading goes on with the modules there are. Everything is read as untrusted
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


#: Folders a zip tool or an OS adds, never looked at.
JUNK_FOLDERS = ("__MACOSX", "__pycache__", ".ipynb_checkpoints")
#: Files named in the summary, at most.
SHOWN_FILES = 6
#: Folders of a student's working copy that a folder submission never needs walked.
SKIPPED_FOLDERS = ("__pycache__", ".venv", "venv", ".git", ".ipynb_checkpoints", "node_modules")
#: Files and folders of the student bundle itself: not worth a note when they come along.
BUNDLE_FILES = ("Makefile", "README.md", "requirements.txt", "constraints.txt")
BUNDLE_FOLDERS = ("grader", "datasets", "feedback", LOGS_FOLDER)


def _is_junk(name):
    return any(part in JUNK_FOLDERS or part.startswith(".") for part in name.split("/"))


def _module_folder(names, wanted):
    """The folder (``""``: the top level) holding most of the ``wanted`` module files, the
    shallowest on a tie; None when no wanted module is anywhere."""
    counts = {}
    for name in names:
        if _is_junk(name):
            continue
        folder, _, base = name.rpartition("/")
        if base in wanted:
            counts[folder] = counts.get(folder, 0) + 1
    if not counts:
        return None
    return min(counts, key=lambda folder: (-counts[folder], folder.count("/") + bool(folder), folder))


def _listed(names):
    names = list(names)
    shown = ", ".join(names[:SHOWN_FILES])
    return shown + (f" and {len(names) - SHOWN_FILES} more" if len(names) > SHOWN_FILES else "")


def summary(found, expected, folder, plain_prefix):
    """The first note of a grade when the submission is not laid out as expected, else None.

    Parameters
    ----------
    found : dict
        What ``stage`` found so far (modules, missing, notebooks, ignored).
    expected : sequence of str
        The module file names a submission holds.
    folder : str or None
        Where the modules were taken from ("" the top level).
    plain_prefix : str
        The one folder everything sits in (a zipped folder), or "".
    """
    notebooks = found["notebooks"]
    others = [name for name in found["ignored"] if not name.endswith(".ipynb")
              and name not in BUNDLE_FILES and name.split("/", 1)[0] not in BUNDLE_FOLDERS]
    nested = folder not in (None, "", plain_prefix.rstrip("/"))
    if not (nested or others or found["missing"] and (notebooks or not found["modules"])):
        return None
    where = f"in {folder}/" if folder else "at the top level"
    sentences = []
    if found["modules"]:
        sentences.append(f"Your submission holds {len(found['modules'])} module(s) {where}: "
                         f"{_listed(found['modules'])}; they are graded.")
    else:
        sentences.append("Your submission holds none of the modules the grader runs.")
    sentences.append(f"Expected: {_listed(expected) if len(expected) <= SHOWN_FILES else ', '.join(expected)}, "
                     "at the top level of your folder or zip, or inside one folder.")
    if found["missing"]:
        sentences.append(f"Missing: {', '.join(found['missing'])} (their parts score 0).")
    if notebooks:
        sentences.append(f"{_listed(notebooks)}: a notebook is not graded; the grader runs "
                         "the .py files. Submit the .py files the notebook imports (the "
                         "notebook edition reads them from the same folder).")
    if nested:
        sentences.append(f"The modules were found in {folder}/, not at the top level: next "
                         "time, submit the files themselves or one folder holding them.")
    if others:
        sentences.append(f"Not graded: {_listed(others)}.")
    return " ".join(sentences)


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
        "problems": [...], "notebooks": [...], "summary": str or None}``; ``problems``
        holds one sentence per file that could not be used (corrupt zip member, link, too
        large), for the student; ``summary`` the note that should come first when the
        submission is not laid out as expected (see `summary`).

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
    wanted = [f"{m}.py" for m in student_modules()]
    names = [name for name in entries if not _is_junk(name)]
    plain_prefix = _common_prefix(names)
    folder = _module_folder(names, wanted)
    prefix = plain_prefix if folder is None else (folder + "/" if folder else "")
    found = {"modules": [], "missing": [], "ignored": [], "log_runs": 0, "problems": problems,
             "notebooks": [], "summary": None}
    log_runs = set()
    for name in sorted(names):
        inside = name.startswith(prefix)
        relative = name[len(prefix):] if inside else name
        parts = relative.split("/")
        if parts[0] == LOGS_FOLDER and len(parts) > 2:
            log_runs.add(parts[1])
            continue
        if inside and len(parts) == 1 and relative.endswith(".py") and relative.isascii() \
                and relative[:-3].isidentifier() and len(found["modules"]) < MAX_MODULES:
            try:
                content = entries[name]()
            except MemberProblem as problem:
                found["problems"].append(f"{problem}; it was not graded")
                continue
            with open(os.path.join(destination, relative), "wb") as handle:
                handle.write(content)
            found["modules"].append(relative)
        elif relative.endswith(".ipynb"):
            found["notebooks"].append(name)
            found["ignored"].append(name)
        else:
            found["ignored"].append(name if not inside else relative)
    found["log_runs"] = len(log_runs)
    found["missing"] = [m for m in wanted if m not in found["modules"]]
    found["summary"] = summary(found, wanted, folder, plain_prefix)
    found["ignored"] = found["ignored"][:20]
    found["notebooks"] = found["notebooks"][:20]
    found["problems"] = found["problems"][:20]
    return found


def _folder_entries(folder):
    """``{relative name: reader}`` for the regular files of a folder, and problems."""
    listing = safefs.list_files(folder, max_depth=MAX_DEPTH, max_entries=MAX_ENTRIES,
                                skip_dirs=SKIPPED_FOLDERS)
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
