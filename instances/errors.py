"""Errors for bad user input. The command line turns an :class:`InputError` into exit code 2 and one line."""
from __future__ import annotations


class InputError(ValueError):
    """Bad input from a user: an unknown name, a malformed file, a value out of range.

    ``field`` names the offending field (e.g. ``"beta"``, ``"--aps"``, ``"solver"``); the message always names it.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
