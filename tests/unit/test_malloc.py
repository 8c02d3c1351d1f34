"""The malloc controls the cockpit sets at start (glibc only) are safe to call anywhere."""

from __future__ import annotations

import os

import pytest

from cockpit import runtime


def test_tune_and_release_are_no_ops_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_glibc(name: str) -> str:
        raise ValueError("unrecognized configuration name")

    monkeypatch.setattr(os, "confstr", not_glibc)
    assert runtime._libc() is None
    runtime.tune_malloc()
    runtime.release_free_memory()


def test_tune_and_release_run_on_glibc() -> None:
    try:
        glibc = (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        glibc = False
    if not glibc:
        pytest.skip("not glibc")
    assert runtime._libc() is not None
    runtime.tune_malloc()
    runtime.release_free_memory()
    big = bytearray(4 * runtime.MMAP_THRESHOLD)  # its own mapping now, given back when freed
    del big
