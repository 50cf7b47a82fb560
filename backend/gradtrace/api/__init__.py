"""The HTTP layer: thin routes over the domain code (which never imports FastAPI)."""

from .app import create_app

__all__ = ["create_app"]
