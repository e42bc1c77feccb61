"""Artifacts: how an object the code hands to upload_artifact() becomes a
stored file, and how Artifact.get() gives it back as the object it was.

    a file or folder path -> "file" / "folder" (a .tar.gz), get() -> local path
    a dict                -> "json",   get() -> the dict
    a pandas DataFrame    -> "csv",    get() -> a DataFrame (index from column 0)
    a numpy ndarray       -> "npy",    get() -> the array (dtype kept)
    a PIL image           -> "image" (PNG), get() -> a PIL image
    anything else         -> "pickle", get() -> the unpickled object

As with ClearML, get() of a pickle runs pickle.load: fetch artifacts only
from servers and tasks you trust."""
import hashlib
import json
import os
import pickle
import shutil
import sys
import tarfile
import tempfile

from . import _backend, _safe_paths
from ._http import RoundhouseError


def encode(obj):
    """(type, content type, path, folder to remove afterwards) for obj."""
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if os.path.isdir(path):
            tmp = tempfile.mkdtemp(prefix="rh-artifact-")
            out = os.path.join(tmp, "folder.tar.gz")
            with tarfile.open(out, "w:gz") as tar:
                tar.add(path, arcname=".")
            return "folder", "application/gzip", out, tmp
        if os.path.isfile(path):
            return "file", "application/octet-stream", path, None
        raise RoundhouseError("invalid_argument", f"artifact path {path}: no such file or folder")
    tmp = tempfile.mkdtemp(prefix="rh-artifact-")
    try:
        return _encode_object(obj, tmp) + (tmp,)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _encode_object(obj, tmp):
    if isinstance(obj, dict):
        path = os.path.join(tmp, "artifact.json")
        with open(path, "w") as f:
            json.dump(obj, f, indent=2, default=str)
        return "json", "application/json", path
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.DataFrame):
        path = os.path.join(tmp, "artifact.csv")
        obj.to_csv(path)
        return "csv", "text/csv", path
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.ndarray):
        path = os.path.join(tmp, "artifact.npy")
        np.save(path, obj, allow_pickle=False)
        return "npy", "application/octet-stream", path
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(obj, pil.Image):
        path = os.path.join(tmp, "artifact.png")
        obj.save(path, format="PNG")
        return "image", "image/png", path
    path = os.path.join(tmp, "artifact.pkl")
    try:
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:  # pickle raises many kinds for what it cannot store
        raise RoundhouseError("invalid_argument",
                              f"cannot store a {type(obj).__name__} as an artifact: it does not pickle ({e})")
    return "pickle", "application/octet-stream", path


class Artifact:
    def __init__(self, task, record):
        self._task = task
        self.name = record["name"]
        self.digest = record["digest"]
        self.size = record["size"]
        self.type = record["type"]
        self.metadata = record.get("metadata", {})

    def get_local_copy(self):
        """A read-only cached copy (a folder artifact is extracted); the
        digest is checked on download."""
        cache = os.path.join(_backend.data_dir(), "cache", "artifacts")
        os.makedirs(cache, exist_ok=True)
        hexd = self.digest.split(":", 1)[1]
        path = os.path.join(cache, hexd)
        if not os.path.exists(path):
            data = self._task._client.request("GET", f"/api/v1/blobs/{self.digest}", raw=True)
            if "sha256:" + hashlib.sha256(data).hexdigest() != self.digest:
                raise RoundhouseError("corrupt", f"artifact {self.name} does not match its digest")
            tmp = path + f".tmp{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)
        if self.type == "folder":
            out = path + ".d"
            if not os.path.isdir(out):
                tmp = out + f".tmp{os.getpid()}"
                shutil.rmtree(tmp, ignore_errors=True)
                # Every member checked here, whatever this Python's tarfile filters.
                _safe_paths.extract_tar(path, tmp, f"folder artifact {self.name}")
                os.replace(tmp, out)
            return out
        return path

    def get(self):
        """The artifact as the object it was stored from (see the module's
        table); a file or folder is its local path."""
        path = self.get_local_copy()
        if self.type == "json":
            with open(path) as f:
                return json.load(f)
        if self.type == "csv":
            import pandas as pd
            return pd.read_csv(path, index_col=0)
        if self.type == "npy":
            import numpy as np
            return np.load(path, allow_pickle=False)
        if self.type == "image":
            from PIL import Image
            with Image.open(path) as im:
                im.load()
                return im.copy()
        if self.type == "pickle":
            with open(path, "rb") as f:
                return pickle.load(f)
        return path
