"""The one error hierarchy of htjax.

Every error htjax raises on a public path derives from :class:`HtjaxError`, so a caller can catch
all of them in one clause; the ones that are "a value you passed is wrong" also derive from
``ValueError``, so code written against the standard library keeps working.

==============================  ==========================  ==============================================
error                           also a                      raised when
==============================  ==========================  ==============================================
:class:`HtjaxError`             ``Exception``               base of everything below (and of the sync,
                                                            training and adapter errors)
:class:`ConfigError`            ``ValueError``              a rules config or rule-parameter value is
                                                            invalid; the message names the field
:class:`InvalidActionError`     ``ValueError``              an action has the wrong shape, dtype or range,
                                                            or a seat index is out of range
:class:`UnknownEnvError`        ``ValueError``              an env id is not registered
:class:`InvalidArgumentError`   ``ValueError``              any other bad argument to a public function
                                                            (sizes, seeds, modes, paths)
:class:`MemoryBudgetError`      ``MemoryError``             a requested batch would not fit in memory; the
                                                            message names the estimate, the free memory and
                                                            the largest size that fits
==============================  ==========================  ==============================================
"""

from __future__ import annotations

__all__ = [
    "HtjaxError",
    "ConfigError",
    "InvalidActionError",
    "UnknownEnvError",
    "InvalidArgumentError",
    "MemoryBudgetError",
]


class HtjaxError(Exception):
    """Base class of htjax's own errors."""


class ConfigError(HtjaxError, ValueError):
    """A rules config or rule-parameter value is invalid; the message names the field."""


class InvalidActionError(HtjaxError, ValueError):
    """An action has the wrong shape, dtype or range (raised outside jit), or a seat is out of range."""


class UnknownEnvError(HtjaxError, ValueError):
    """An env id is not registered; the message lists the available ids."""


class InvalidArgumentError(HtjaxError, ValueError):
    """A public function got an argument it cannot use (a size, seed, mode or path)."""


class MemoryBudgetError(HtjaxError, MemoryError):
    """A batch would not fit in the machine's free memory (the message says what would)."""
