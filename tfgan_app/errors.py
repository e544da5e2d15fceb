"""Errors raised for bad user input.

Every error a user can cause by passing a wrong value (a preset name, a dataset
spec, a shape, a file path) is raised as a `TfganError` subclass at the place
where the value enters, with a message that says what was expected, what was
received and how to fix it. The CLI prints these messages without a traceback.
"""


class TfganError(Exception):
    """Base class for errors caused by user input or missing resources."""


class UsageError(TfganError, ValueError):
    """A value given by the user is invalid (unknown name, bad shape, bad number)."""


class MissingResourceError(TfganError, FileNotFoundError):
    """A file, dataset or model the user asked for does not exist or cannot be read."""


class TrainingDivergedError(TfganError, FloatingPointError):
    """A loss became NaN or infinite during training."""
