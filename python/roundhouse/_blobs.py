"""Content-addressed uploads: a file goes to /api/v1/blobs/sha256:<hex>
once (HEAD first), streamed from disk."""
import hashlib


def sha256_file(path):
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return "sha256:" + h.hexdigest(), size


def upload_file(client, path):
    """(digest, size) of the file, stored on the server."""
    digest, size = sha256_file(path)
    if not client.exists(f"/api/v1/blobs/{digest}"):
        with open(path, "rb") as f:
            client.request("PUT", f"/api/v1/blobs/{digest}", f, content_type="application/octet-stream",
                           headers={"Content-Length": str(size)})
    return digest, size
