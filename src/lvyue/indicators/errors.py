"""The one error the indicators raise for bad input (the CLI prints it, exit code 2)."""


class IndicatorError(ValueError):
    """Bad facts or options for the indicators (the message names what is at fault)."""
