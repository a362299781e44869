"""The ctxlab application: main window, CLI verbs, sessions, settings and the API service."""

__version__ = "0.1.0"
