"""The engine: the only thing the faces (console, CLI, loader, server) call."""

from .core import REVERSAL_NAMESPACE, Clock, Engine, Target, system_clock
from .partitions import READ_BATCH
from .sealing import SealReport

__all__ = ["READ_BATCH", "REVERSAL_NAMESPACE", "Clock", "Engine", "SealReport", "Target", "system_clock"]
