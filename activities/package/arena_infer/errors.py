class PackageError(Exception):
    """The package, or the input it is given, cannot be used: the message names the file and what is wrong."""
