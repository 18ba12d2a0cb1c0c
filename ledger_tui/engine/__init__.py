"""The engine: the only thing the faces (console, CLI, loader, server) call."""

from .core import Clock, Engine, Target, system_clock
from .partitions import READ_BATCH
from .sealing import SealReport

__all__ = ["READ_BATCH", "Clock", "Engine", "SealReport", "Target", "system_clock"]
