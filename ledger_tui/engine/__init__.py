"""The engine: the only thing the faces (console, CLI, loader, server) call."""

from .core import READ_BATCH, REVERSAL_NAMESPACE, Clock, Engine, Target, system_clock

__all__ = ["READ_BATCH", "REVERSAL_NAMESPACE", "Clock", "Engine", "Target", "system_clock"]
