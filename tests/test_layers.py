"""scripts/check-layers.py: the repository passes it, and it catches a lower
layer including a higher one, a folder with no row, and testing/ outside tests."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CHECK = os.path.join(ROOT, "scripts", "check-layers.py")


def run(root):
    return subprocess.run([sys.executable, CHECK, str(root)], capture_output=True, text=True)


def test_the_repository_keeps_its_layers():
    p = run(ROOT)
    assert p.returncode == 0, p.stderr


def test_violations_are_named_with_file_and_rule(tmp_path):
    shutil.copy(os.path.join(ROOT, "ARCHITECTURE.md"), tmp_path)
    src = tmp_path / "src" / "roundhouse"
    for layer in ("util", "store", "api", "testing", "newthing"):
        (src / layer).mkdir(parents=True)
    (src / "util" / "bad.h").write_text('#include "roundhouse/store/metadata_store.h"\n')
    (src / "store" / "ok.cpp").write_text('#include "roundhouse/model/task.h"\n#include "roundhouse/util/error.h"\n')
    (src / "store" / "uses_testing.cpp").write_text('#include "roundhouse/testing/temp_dir.h"\n')
    (src / "store" / "fine_test.cpp").write_text('#include "roundhouse/client/remote_store.h"\n'
                                                 '#include "roundhouse/testing/temp_dir.h"\n')
    p = run(tmp_path)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert any("src/roundhouse/util/bad.h: includes roundhouse/store/metadata_store.h" in l for l in lines), lines
    assert any("newthing/ has no row" in l for l in lines), lines
    assert any("uses_testing.cpp" in l and "unit tests only" in l for l in lines), lines
    assert not any("ok.cpp" in l or "fine_test.cpp" in l for l in lines), lines
    assert len(lines) == 3, lines
