"""htjax's error types (placeholder until the core contract change lands on main; take main's
version on merge). See /work/coord/CORE_CONTRACT.md item 1."""

from htjax.core.config import ConfigError
from htjax.core.env import HtjaxError, InvalidActionError, UnknownEnvError

__all__ = ["HtjaxError", "ConfigError", "InvalidActionError", "UnknownEnvError", "MemoryBudgetError",
           "InvalidArgumentError"]


class MemoryBudgetError(HtjaxError, MemoryError):
    """A size that would not fit in memory."""


class InvalidArgumentError(HtjaxError, ValueError):
    """Any other bad argument to a public function."""
