"""An import's work runs on a thread of lower CPU priority; the worker itself keeps its own."""

from __future__ import annotations

import os
import threading

import pytest

from workers.tasks.imports import yielding


def _my_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_work_runs_ten_nice_steps_lower_and_the_caller_is_untouched():
    before = _my_nice()
    inside = yielding(_my_nice, 10)
    assert inside == min(19, before + 10)
    assert _my_nice() == before


def test_the_work_s_result_and_errors_come_back():
    assert yielding(lambda: "succeeded", 10) == "succeeded"
    with pytest.raises(ZeroDivisionError):
        yielding(lambda: 1 / 0, 10)


def test_zero_runs_the_work_here():
    assert yielding(threading.get_native_id, 0) == threading.get_native_id()
