class UserInputError(Exception):
    """Config, spec or data the trainer rejects; the message names the file and the key, column or row."""
