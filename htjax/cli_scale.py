"""The multi-process options that ``htjax train`` and ``htjax bench`` share (``--distributed``).

Each option also reads an environment variable (``HTJAX_COORDINATOR``, ``HTJAX_NUM_PROCESSES``,
``HTJAX_PROCESS_ID``, ``HTJAX_JOIN_TIMEOUT``), so a launcher can set them per process; left
unset, jax detects the cluster (SLURM, Open MPI, TPU pods). See ``docs/scale.md``.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any, Optional

import typer

from htjax.core.distributed import (
    DEFAULT_TIMEOUT_S,
    ENV_COORDINATOR,
    ENV_NUM_PROCESSES,
    ENV_PROCESS_ID,
    ENV_TIMEOUT,
    ProcessInfo,
)

__all__ = [
    "distributed_option",
    "coordinator_option",
    "num_processes_option",
    "process_id_option",
    "join_timeout_option",
    "join",
]


def distributed_option() -> Any:
    return typer.Option(
        False,
        "--distributed",
        help="Run over every device of every process (jax.distributed; docs/scale.md).",
    )


def coordinator_option() -> Any:
    return typer.Option(
        None, "--coordinator", envvar=ENV_COORDINATOR, help="host:port of process 0 (default: auto-detected)."
    )


def num_processes_option() -> Any:
    return typer.Option(
        None,
        "--num-processes",
        min=1,
        envvar=ENV_NUM_PROCESSES,
        help="Processes in the run (default: auto-detected).",
    )


def process_id_option() -> Any:
    return typer.Option(
        None,
        "--process-id",
        min=0,
        envvar=ENV_PROCESS_ID,
        help="This process's id, 0..n-1 (default: auto-detected).",
    )


def join_timeout_option() -> Any:
    return typer.Option(
        DEFAULT_TIMEOUT_S,
        "--join-timeout",
        min=1,
        envvar=ENV_TIMEOUT,
        help="Seconds to wait for every process to join.",
    )


def join(
    distributed: bool,
    coordinator: Optional[str],
    num_processes: Optional[int],
    process_id: Optional[int],
    timeout_s: float,
) -> ProcessInfo | None:
    """Join the run when ``distributed`` (before anything else touches JAX); ``None`` otherwise
    (the process options, which may come from the environment, are then ignored).

    Raises:
      InvalidArgumentError: malformed process options.
      DistributedError: the join failed or timed out (see :func:`htjax.core.distributed.initialize`).
    """
    if not distributed:
        return None
    from htjax.core.distributed import initialize

    info = initialize(coordinator, num_processes, process_id, timeout_s=float(timeout_s))
    _keep_stdout_for_results()
    return info


def _keep_stdout_for_results() -> None:
    """Send file descriptor 1 to stderr and keep the real stdout for Python's ``sys.stdout``.

    Cross-process collectives log from C++ straight to descriptor 1 (gloo's "Rank r is connected
    to n peer ranks", once per new group of devices), which would corrupt ``--json`` output and
    tables; after this, only what the command prints reaches stdout."""
    sys.stdout.flush()
    real = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = io.TextIOWrapper(
        os.fdopen(real, "wb"), encoding=sys.stdout.encoding or "utf-8", line_buffering=True
    )
