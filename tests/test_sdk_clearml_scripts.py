"""ClearML-style scripts against the SDK: what the script does after
connect(), matplotlib imported after init and shown several times, manual
figure reports, switching automatic capture off, float images, and artifacts
coming back as the objects they were."""
import io
import json

import numpy as np
import pytest

from test_sdk import only_task, run_script


def plots_of(server, task_id):
    return server.request("GET", f"/api/v1/tasks/{task_id}/plots")[1]["plots"]


def blob(server, digest):
    return server.request("GET", f"/api/v1/blobs/{digest}")[1]


def pixels(png):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)))


def test_a_connected_dict_records_the_writes_made_after_connect(tmp_path, server):
    p = run_script(tmp_path, server, """
        import json
        import roundhouse
        task = roundhouse.init(project="conn", name="c")
        params = task.connect({"lr": 0.1, "float": 2.2, "opt": {"momentum": 0.9}, "gone": 1})
        params["new_param"] = "this is new"
        params["float"] = "9.9"
        params["opt"]["momentum"] = 0.95
        params["opt"]["extra"] = {"depth": 3}
        params["opt"]["extra"]["depth"] = 4
        params.update({"batch": 64})
        params.setdefault("warmup", 5)
        del params["gone"]
        assert isinstance(params, dict)
        print(json.dumps(params, sort_keys=True))
    """)
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {
        "lr": 0.1, "float": "9.9", "opt": {"momentum": 0.95, "extra": {"depth": 4}},
        "new_param": "this is new", "batch": 64, "warmup": 5}
    hp = only_task(server, project="conn")["hyperparameters"]["General"]
    assert {k: v["value"] for k, v in hp.items()} == {
        "lr": "0.1", "float": "9.9", "opt/momentum": "0.95", "opt/extra/depth": "4",
        "new_param": "this is new", "batch": "64", "warmup": "5"}
    assert hp["batch"]["type"] == "int"


MATPLOTLIB_AFTER_INIT = """
    import roundhouse
    task = roundhouse.init(project="mpl", name="m")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.plot([1, 2, 3], [3, 1, 2])
    plt.title("first")
    plt.show()
    plt.plot([3, 2, 1], [1, 2, 3])
    plt.title("second")
    plt.show()
    fig = plt.figure()
    fig.gca().plot([0, 1], [1, 0])
    task.get_logger().report_matplotlib_figure("manual", "m", fig, iteration=7)
"""


def test_matplotlib_imported_after_init_records_each_shown_figure_once(tmp_path, server):
    p = run_script(tmp_path, server, MATPLOTLIB_AFTER_INIT)
    assert "could not hook" not in p.stderr, p.stderr
    t = only_task(server, project="mpl")
    images = [x for x in plots_of(server, t["id"]) if x["kind"] == "image"]
    assert sorted(x["title"] for x in images) == ["first", "manual", "second"], images
    [manual] = [x for x in images if x["title"] == "manual"]
    assert (manual["series"], manual["iteration"]) == ("m", 7)
    # Each show() starts the next plot on a clean figure: the second image is
    # the second plot alone, as matplotlib draws it in a fresh process.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.figure()
    plt.plot([3, 2, 1], [1, 2, 3])
    plt.title("second")
    ref = io.BytesIO()
    plt.savefig(ref, format="png")
    plt.close("all")
    [second] = [x for x in images if x["title"] == "second"]
    assert np.array_equal(pixels(blob(server, second["digest"])), pixels(ref.getvalue()))


def test_automatic_matplotlib_capture_can_be_turned_off(tmp_path, server):
    script = MATPLOTLIB_AFTER_INIT.replace(
        'roundhouse.init(project="mpl", name="m")',
        'roundhouse.init(project="off", name="m", auto_connect_frameworks={"matplotlib": False})')
    run_script(tmp_path, server, script)
    t = only_task(server, project="off")
    # Only the figure reported by hand.
    assert [x["title"] for x in plots_of(server, t["id"])] == ["manual"]


def test_float_images_follow_clearml_and_bool_masks_are_black_and_white(tmp_path, server):
    run_script(tmp_path, server, """
        import numpy as np
        import roundhouse
        task = roundhouse.init(project="img", name="i")
        log = task.get_logger()
        log.report_image("float", "two", 0, image=np.array([[1.0, 0.5]], dtype=np.float32))
        log.report_image("float", "grey", 0, image=np.full((2, 3), 0.25))
        log.report_image("float", "rgb", 0, image=np.array([[[1.0, 0.0, 0.5]]]))
        log.report_image("float", "below zero", 0, image=np.array([[-0.5, 0.75]]))
        log.report_image("float", "0..255", 0, image=np.array([[0.0, 200.0, 300.0]]))
        log.report_image("int", "wide", 0, image=np.array([[-3, 7, 1000]], dtype=np.int32))
        log.report_image("bool", "mask", 0, image=np.array([[True, False]]))
    """)
    t = only_task(server, project="img")
    by = {x["series"]: pixels(blob(server, x["digest"])) for x in plots_of(server, t["id"])}
    # Largest value at most 1: taken as 0..1, times 255, truncated (ClearML's rule).
    assert by["two"].tolist() == [[255, 127]]
    assert by["grey"].tolist() == [[63, 63, 63], [63, 63, 63]], "a uniform grey stays grey"
    assert by["rgb"].tolist() == [[[255, 0, 127]]]
    # Outside 0..255 is clipped (ClearML's uint8 cast would wrap -127 round to 129).
    assert by["below zero"].tolist() == [[0, 191]]
    assert by["0..255"].tolist() == [[0, 200, 255]]
    assert by["wide"].tolist() == [[0, 7, 255]]
    assert by["mask"].tolist() == [[255, 0]]


def test_an_image_of_the_wrong_shape_is_refused_by_shape(tmp_path, server):
    p = run_script(tmp_path, server, """
        import numpy as np
        import roundhouse
        task = roundhouse.init(project="badimg", name="i")
        task.get_logger().report_image("bad", "s", 0, image=np.zeros((2, 2, 2)))
    """, check=False)
    assert p.returncode != 0 and "(2, 2, 2)" in p.stderr, p.stderr


def test_artifacts_come_back_as_the_objects_they_were(tmp_path, server):
    run_script(tmp_path, server, """
        import numpy as np, pandas as pd
        from PIL import Image
        import roundhouse
        task = roundhouse.init(project="objs", name="o")
        task.upload_artifact("frame", pd.DataFrame({"x": [1, 2], "y": [0.5, 0.25], "s": ["a", "b"]}))
        task.upload_artifact("array", np.arange(6, dtype=np.int16).reshape(2, 3))
        task.upload_artifact("list", [1, "two", {"three": 3.0}])
        task.upload_artifact("image", Image.new("RGB", (3, 2), (10, 20, 30)))
        task.upload_artifact("summary", {"best": 0.7})
        open("notes.txt", "w").write("n")
        task.upload_artifact("notes", "notes.txt")
        try:
            task.upload_artifact("missing", "no/such/file.txt")
        except roundhouse.RoundhouseError as e:
            print("refused:", e)
    """)
    import pandas as pd
    import roundhouse
    t = roundhouse.Task.get_task(project_name="objs", task_name="o", server=server.url)
    arts = t.artifacts
    assert set(arts) == {"frame", "array", "list", "image", "summary", "notes"}
    assert {n: a.type for n, a in arts.items()} == {
        "frame": "csv", "array": "npy", "list": "pickle", "image": "image", "summary": "json", "notes": "file"}
    frame = arts["frame"].get()
    assert isinstance(frame, pd.DataFrame)
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"x": [1, 2], "y": [0.5, 0.25], "s": ["a", "b"]}))
    array = arts["array"].get()
    assert array.dtype == np.int16 and array.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert arts["list"].get() == [1, "two", {"three": 3.0}]
    image = arts["image"].get()
    assert image.size == (3, 2) and image.getpixel((0, 0)) == (10, 20, 30)
    assert arts["summary"].get() == {"best": 0.7}
    with open(arts["notes"].get()) as f:
        assert f.read() == "n"


def test_a_path_that_does_not_exist_is_refused_by_name(tmp_path, server):
    p = run_script(tmp_path, server, """
        import roundhouse
        task = roundhouse.init(project="nopath", name="n")
        task.upload_artifact("missing", "no/such/file.txt")
    """, check=False)
    assert p.returncode != 0 and "no/such/file.txt" in p.stderr and "no such file" in p.stderr


@pytest.mark.parametrize("flag", [False, {"pytorch": False, "matplotlib": False}])
def test_auto_connect_frameworks_false_records_no_figures(tmp_path, server, flag):
    run_script(tmp_path, server, f"""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import roundhouse
        roundhouse.init(project="noframe", name="n", auto_connect_frameworks={flag!r})
        plt.plot([1, 2])
        plt.savefig("x.png")
        plt.show()
    """)
    t = only_task(server, project="noframe")
    assert plots_of(server, t["id"]) == []


def test_a_figure_saved_then_shown_unchanged_is_recorded_once(tmp_path, server):
    run_script(tmp_path, server, """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import roundhouse
        roundhouse.init(project="once", name="o")
        plt.plot([1, 2])
        plt.title("saved")
        plt.savefig("saved.png")
        plt.show()
        plt.plot([2, 1])
        plt.title("changed")
        plt.savefig("a.png")
        plt.title("changed again")
        plt.savefig("b.png")
    """)
    t = only_task(server, project="once")
    assert sorted(x["title"] for x in plots_of(server, t["id"])) == ["changed", "changed again", "saved"]
    assert (tmp_path / "saved.png").stat().st_size > 0


def test_a_second_task_in_one_process_records_each_figure_once(tmp_path, server):
    run_script(tmp_path, server, """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import roundhouse
        first = roundhouse.init(project="twice", name="first")
        first.close()
        second = roundhouse.init(project="twice", name="second")
        plt.plot([1, 2])
        plt.title("one")
        plt.savefig("a.png")
        plt.plot([2, 1])
        plt.title("two")
        plt.savefig("b.png")
    """)
    tasks = {t["name"]: t for t in server.request("GET", "/api/v1/tasks?project=twice")[1]["tasks"]}
    assert plots_of(server, tasks["first"]["id"]) == []
    assert sorted(x["title"] for x in plots_of(server, tasks["second"]["id"])) == ["one", "two"]
