"""Medians and spreads of repeated runs."""
import statistics


def summary(values):
    """{"median", "min", "max", "n", "values"} of the numbers in values
    (None entries are left out); None when there are none."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals),
            "max": max(vals), "n": len(vals), "values": vals}


def median(values):
    s = summary(values)
    return s["median"] if s else None


def ratio(num, den):
    """num / den, or None when either is missing or den is 0."""
    if num is None or not den:
        return None
    return num / den


def field(runs, *path):
    """The values at path (a chain of keys) in each run dict."""
    out = []
    for run in runs:
        val = run
        for key in path:
            val = val.get(key) if isinstance(val, dict) else None
        out.append(val)
    return out
