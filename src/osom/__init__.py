"""OSOM: the platform for the Organised Services Operating Model."""

__version__ = "0.1.0"
