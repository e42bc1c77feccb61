"""Logger: what a task reports while it runs: scalars, text, tables,
scatter and line plots, debug images and matplotlib figures."""
import csv
import io
import os
import shutil
import sys
import tempfile


class Logger:
    def __init__(self, task):
        self._task = task

    def report_scalar(self, title, series, value, iteration):
        """One point of a chart: title groups series on one chart."""
        self._task._reporter.scalar(title, series, float(value), int(iteration))

    def report_text(self, msg, print_console=True):
        """A line in the task's console."""
        if print_console:
            print(msg)
        else:
            self._task._reporter.line("stdout", str(msg))

    def report_table(self, title, series, iteration=0, table_plot=None, csv=None, url=None):
        """A table from a pandas DataFrame (table_plot), a list of rows whose
        first row is the header (table_plot), or a CSV file (csv)."""
        columns, rows = _table(table_plot, csv)
        self._plot(title, series, iteration, "table", {"columns": columns, "rows": rows})

    def report_scatter2d(self, title, series, scatter, iteration=0, xaxis="", yaxis="",
                         mode="markers"):
        """Points [(x, y), ...] (or an N x 2 array) as a scatter or line plot."""
        pts = [(float(p[0]), float(p[1])) for p in scatter]
        self._plot(title, series, iteration, "scatter2d",
                   {"x": [p[0] for p in pts], "y": [p[1] for p in pts], "mode": mode,
                    "xaxis": xaxis, "yaxis": yaxis})

    def report_line_plot(self, title, series, xs, ys, iteration=0, xaxis="", yaxis=""):
        self.report_scatter2d(title, series, list(zip(xs, ys)), iteration, xaxis, yaxis, mode="lines")

    report_line = report_line_plot

    def report_image(self, title, series, iteration=0, local_path=None, image=None):
        """A debug image from a file, a PIL image or a numpy array (H x W,
        H x W x 1, 3 or 4). As in ClearML, a float array whose largest value
        is at most 1 is taken as 0..1 and multiplied by 255 (truncated), any
        other as 0..255; values outside 0..255 are clipped (ClearML wraps
        them around). A bool array is black and white (0 and 255)."""
        tmp = tempfile.mkdtemp(prefix="rh-image-")
        if local_path is not None:
            ext = os.path.splitext(local_path)[1].lstrip(".").lower() or "png"
            path = os.path.join(tmp, "image." + ext)
            shutil.copyfile(local_path, path)
        elif image is not None:
            path = os.path.join(tmp, "image.png")
            _save_image(image, path)
            ext = "png"
        else:
            shutil.rmtree(tmp)
            raise ValueError("report_image needs local_path or image")
        self._task._reporter.plot({"title": title, "series": series, "iteration": int(iteration),
                                   "kind": "image", "data": {"format": ext}}, path)

    def report_matplotlib_figure(self, title, series, figure, iteration=0):
        """A matplotlib figure as a PNG debug image (reported once: the
        automatic figure capture does not report this save again)."""
        from . import _frameworks
        buf = io.BytesIO()
        with _frameworks.quiet():
            figure.savefig(buf, format="png")
        self.report_image_bytes(title, series, iteration, buf.getvalue(), source="matplotlib")

    def report_image_bytes(self, title, series, iteration, png, source=""):
        """A debug image from PNG bytes."""
        tmp = tempfile.mkdtemp(prefix="rh-image-")
        path = os.path.join(tmp, "image.png")
        with open(path, "wb") as f:
            f.write(png)
        data = {"format": "png"}
        if source:
            data["source"] = source
        self._task._reporter.plot({"title": title, "series": series, "iteration": int(iteration),
                                   "kind": "image", "data": data}, path)

    def _plot(self, title, series, iteration, kind, data):
        self._task._reporter.plot({"title": title, "series": series, "iteration": int(iteration),
                                   "kind": kind, "data": data})

    def flush(self):
        return self._task._reporter.flush()


def _cell(v):
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


def _table(table_plot, csv_path):
    if csv_path is not None:
        with open(csv_path, newline="") as f:
            rows = list(csv.reader(f))
        return (rows[0] if rows else []), rows[1:]
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(table_plot, pd.DataFrame):
        df = table_plot.reset_index()
        return [str(c) for c in df.columns], [[_cell(v) for v in r] for r in df.itertuples(index=False)]
    rows = [list(r) for r in (table_plot or [])]
    if not rows:
        raise ValueError("report_table needs table_plot (DataFrame or rows) or csv")
    return [str(c) for c in rows[0]], [[_cell(v) for v in r] for r in rows[1:]]


def _save_image(image, path):
    if hasattr(image, "save") and not hasattr(image, "shape"):  # PIL
        image.save(path, format="PNG")
        return
    np = sys.modules.get("numpy")
    if np is None or not hasattr(image, "shape"):
        raise ValueError("image must be a PIL image or a numpy array")
    _write_png(np.asarray(image), path)


def _as_uint8(np, arr):
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.size and np.issubdtype(arr.dtype, np.floating):
        finite = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        if finite.max() <= 1.0:
            finite = finite * 255.0
        return np.clip(np.trunc(finite), 0, 255).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)


def _write_png(arr, path):
    """A minimal PNG writer (8-bit gray, RGB or RGBA) so that numpy arrays
    need neither PIL nor matplotlib."""
    import struct
    import zlib
    np = sys.modules["numpy"]
    arr = _as_uint8(np, arr)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.size == 0:
        raise ValueError(f"image must be H x W or H x W x 1, 3 or 4 and not empty; got shape {arr.shape}")
    color = {1: 0, 3: 2, 4: 6}[arr.shape[2]]
    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
