"""What goes wrong with a throwaway server."""


class ServerError(RuntimeError):
    """A throwaway server could not be started or stopped."""


class PortInUse(ServerError):
    """The chosen port was taken by someone else."""
