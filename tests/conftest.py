"""pytest glue for replog's test suites.

When REPLOG_TAP=1 (set by meson for the cluster suite), every test
outcome is written as a TAP line straight to file descriptor 1, bypassing
pytest's capture, so meson counts each test case and the README's test
command can sum them. Failure details follow as TAP comments ("# ..."),
and pytest's own report goes to stderr.
"""
import os
import sys

import pytest

_count = 0


def _emit(line):
    os.write(1, (line + "\n").encode("utf-8", "replace"))


def _tap_enabled():
    return os.environ.get("REPLOG_TAP") == "1"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # pytest's own report (progress, failure diffs) goes to stderr so that
    # stdout carries nothing but TAP.
    if _tap_enabled():
        sys.stdout = sys.stderr


def pytest_runtest_logreport(report):
    global _count
    if not _tap_enabled():
        return
    name = report.nodeid.replace("#", "")
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _count += 1
        if report.passed:
            _emit(f"ok {_count} - {name}")
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            _emit(f"ok {_count} - {name} # SKIP {reason}")
        else:
            _emit(f"not ok {_count} - {name}")
            for line in str(report.longrepr).splitlines():
                _emit("# " + line)
    elif report.when == "teardown" and report.failed:
        _count += 1
        _emit(f"not ok {_count} - {name} (teardown)")
        for line in str(report.longrepr).splitlines():
            _emit("# " + line)


def pytest_sessionfinish(session, exitstatus):
    if _tap_enabled():
        _emit(f"1..{_count}")
