from extractors.one_stop.client import OneStopClient

__all__ = ["OneStopClient"]
