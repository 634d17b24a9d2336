class UserInputError(Exception):
    """Config, spec or data the trainer rejects; the message names the file and the key, column or row."""


class Preempted(Exception):
    """The run stopped on the `preempt` request after writing and announcing a checkpoint at its current step."""
