"""Process pools for the work that parallelises (PDFs, formatting thousands of references): how many workers,
and how to start them safely from whatever process we are in."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import threading


def default_workers(jobs: int) -> int:
    """One process per report, at most one per core this process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(jobs, cores))


def pool_context(preload: list[str]) -> multiprocessing.context.BaseContext:
    """Fork when this process has one thread (fast, no re-import of __main__); forkserver under `mkdocs serve`,
    whose threads make forking unsafe (preloading the modules the workers need); the platform default (spawn)
    elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(preload)
        return context
    return multiprocessing.get_context()
