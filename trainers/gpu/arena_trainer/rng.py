"""Ports of trainers/cpu/rng.ts, bit for bit, so both trainers shuffle and shard rows identically."""

MASK32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    return (a * b) & MASK32


class Mulberry32:
    """mulberry32; the state is one uint32 (JavaScript's int32 arithmetic done modulo 2**32)."""

    def __init__(self, state: int):
        self.state = state & MASK32

    def next(self) -> float:
        self.state = (self.state + 0x6D2B79F5) & MASK32
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & MASK32
        return ((t ^ (t >> 14)) & MASK32) / 4294967296


def derive_seed(*parts: int) -> int:
    h = 0x811C9DC5
    for part in parts:
        h = _imul(h ^ (part & MASK32), 0x01000193)
        h ^= h >> 15
        h = _imul(h, 0x2C1B3C6D)
        h ^= h >> 12
    return h & MASK32


def shuffle_in_place(items: list, rng: Mulberry32) -> None:
    for i in range(len(items) - 1, 0, -1):
        j = int(rng.next() * (i + 1))
        items[i], items[j] = items[j], items[i]
