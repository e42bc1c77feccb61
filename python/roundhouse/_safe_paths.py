"""Writing paths that came from the server or from a file (a folder
artifact's tar, a dataset's rows) without ever writing outside the folder
they belong to, whatever the interpreter's tarfile offers.

Contract: relative_path() raises RoundhouseError for a path that is empty,
absolute, has an empty, "." or ".." component, or holds a backslash or NUL.
extract_tar() writes a tar's members under dest only: regular files,
folders, symlinks whose target stays inside dest, and hard links to members
already extracted; an absolute or ".." name, a device, a FIFO, a duplicate
name or a link leaving dest raises RoundhouseError naming the member, and
dest is then removed (nothing half-extracted is left)."""
import os
import shutil
import tarfile

from ._http import RoundhouseError


def relative_path(what, path):
    """Raises unless path is a plain relative path (see the module's contract)."""
    if not isinstance(path, str) or not path:
        raise RoundhouseError("invalid_argument", f"{what} {path!r} is empty or not text")
    if path.startswith("/"):
        raise RoundhouseError("invalid_argument", f"{what} {path!r} is an absolute path")
    if "\\" in path or "\0" in path:
        raise RoundhouseError("invalid_argument", f"{what} {path!r} contains a backslash or NUL")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise RoundhouseError("invalid_argument", f'{what} {path!r} has an empty, "." or ".." path component')
    return path


def _inside(root, path):
    return path == root or path.startswith(root + os.sep)


def extract_tar(archive, dest, what):
    """Extracts the tar file at archive into the new folder dest."""
    os.makedirs(dest)
    try:
        _extract(archive, dest, what)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _extract(archive, dest, what):
    root = os.path.realpath(dest)
    seen = set()
    with tarfile.open(archive) as tar:
        for m in tar:
            name = m.name.rstrip("/")
            if name in (".", ""):
                continue
            if name.startswith("./"):
                name = name[2:]
            where = f"{what}: member {m.name!r}"
            try:
                relative_path("path", name)
            except RoundhouseError as e:
                raise RoundhouseError("invalid_argument", f"{where} is refused: {e.message}") from None
            if name in seen:
                raise RoundhouseError("invalid_argument", f"{where} appears twice")
            seen.add(name)
            target = os.path.join(root, name)
            parent = os.path.dirname(target)
            os.makedirs(parent, exist_ok=True)
            if not _inside(root, os.path.realpath(parent)):
                raise RoundhouseError("invalid_argument", f"{where} lies behind a link that leaves the folder")
            if m.isdir():
                os.makedirs(target, exist_ok=True)
                if not _inside(root, os.path.realpath(target)):
                    raise RoundhouseError("invalid_argument", f"{where} is a link that leaves the folder")
            elif m.isreg():
                src = tar.extractfile(m)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                os.chmod(target, (m.mode & 0o755) | 0o400)
            elif m.issym():
                link = m.linkname
                if not link or link.startswith("/") or not _inside(
                        root, os.path.normpath(os.path.join(os.path.dirname(target), link))):
                    raise RoundhouseError("invalid_argument", f"{where} is a link to {link!r}, outside the folder")
                os.symlink(link, target)
            elif m.islnk():
                link = m.linkname.rstrip("/")
                link = link[2:] if link.startswith("./") else link
                if link not in seen or link == name:
                    raise RoundhouseError("invalid_argument", f"{where} is a hard link to {m.linkname!r}, "
                                          "which is not an earlier member")
                src = os.path.join(root, link)
                if not _inside(root, os.path.realpath(src)) or os.path.islink(src):
                    raise RoundhouseError("invalid_argument", f"{where} is a hard link out of the folder")
                os.link(src, target)
            else:
                raise RoundhouseError("invalid_argument", f"{where} is a device or FIFO; only files, folders and "
                                      "links are extracted")
    # Links made early may point through links made later: check where each ends.
    for folder, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(folder, n)
            if os.path.islink(p) and not _inside(root, os.path.realpath(p)):
                raise RoundhouseError("invalid_argument",
                                      f"{what}: link {os.path.relpath(p, root)!r} leads outside the folder")
