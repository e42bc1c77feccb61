"""Reads params.yaml (a flat two-level file) without third-party packages."""


def load(section):
    out, current = {}, None
    for line in open("params.yaml"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            current = line.split(":")[0].strip()
            continue
        key, value = (x.strip() for x in line.split(":", 1))
        if current == section:
            out[key] = {"true": True, "false": False}.get(value, value)
    return out
