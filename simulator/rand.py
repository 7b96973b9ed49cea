"""Seeded randomness: one independent stream per purpose, so adding a feature in one part of
the world does not reshuffle the others; stable hashes for per-record decisions."""

from __future__ import annotations

import hashlib

import numpy as np


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts, identical across runs and machines (unlike hash())."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def unit_float(*parts: object) -> float:
    """A float in [0, 1) from the parts, for deterministic per-record choices."""
    return stable_int(*parts) / 2**64


def stream(seed: int, purpose: str) -> np.random.Generator:
    return np.random.default_rng([seed, stable_int(purpose) & 0xFFFFFFFF])
