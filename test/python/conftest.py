"""pytest support for the Python consumer test: its counts go to .wsgate/results/python.json, which
.ci/run adds to the final `tests: N passed, N failed` line."""
import json
import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
_counts = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_runtest_logreport(report):
    if report.when == "call":
        if report.passed:
            _counts["passed"] += 1
        elif report.failed:
            _counts["failed"] += 1
        elif report.skipped:
            _counts["skipped"] += 1
    elif report.failed:  # an error in setup or teardown fails the test
        _counts["failed"] += 1
    elif report.skipped and report.when == "setup":
        _counts["skipped"] += 1


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("WSGATE_RESULTS_DIR", str(REPO / ".wsgate" / "results"))
    os.makedirs(out, exist_ok=True)
    # A run that collected nothing, or crashed before running a test, counts as one failure.
    failed = _counts["failed"] or (1 if exitstatus not in (0,) and _counts["passed"] == 0 else 0)
    with open(os.path.join(out, "python.json"), "w") as f:
        json.dump({"suite": "python consumer", "passed": _counts["passed"], "failed": failed,
                   "skipped": _counts["skipped"]}, f)
        f.write("\n")
