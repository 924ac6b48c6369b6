"""The client side of the Projects API: HTTP client and change-stream listener."""

from .client import CloudClient, CloudError, NotFound, PreconditionFailed

__all__ = ["CloudClient", "CloudError", "NotFound", "PreconditionFailed"]
