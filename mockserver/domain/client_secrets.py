"""Client secrets: generated from a CSPRNG (or a seed), stored only as salted hashes.

A plaintext secret lives in exactly one place: the response that returns it. Everything kept is a
:class:`SecretHash`, and what is shown to people is a short fingerprint of that hash.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

ALPHABET: Final = string.ascii_letters + string.digits
DEFAULT_LENGTH: Final = 64

RandomBytes = Callable[[int], bytes]


def system_random_bytes() -> RandomBytes:
    """Bytes from the operating system's CSPRNG."""
    return secrets.token_bytes


def seeded_random_bytes(seed: int) -> RandomBytes:
    """Reproducible bytes for tests; never for real secrets."""
    return random.Random(seed).randbytes


class SecretGenerator:
    """Draws secrets of ``length`` characters, uniformly from ``alphabet`` (rejection sampling)."""

    __slots__ = ("_alphabet", "_ascii", "_length", "_random_bytes", "_reject", "_table")

    def __init__(
        self,
        random_bytes: RandomBytes,
        length: int = DEFAULT_LENGTH,
        alphabet: str = ALPHABET,
    ) -> None:
        if not 1 <= len(alphabet) <= 256 or len(set(alphabet)) != len(alphabet):
            raise ValueError("alphabet must hold 1 to 256 distinct characters")
        if length < 1:
            raise ValueError("length must be positive")
        self._random_bytes = random_bytes
        self._length = length
        self._alphabet = alphabet
        # Largest multiple of len(alphabet) that fits in a byte: bytes at or above it are
        # rejected, so every character is equally likely. A kept byte b stands for the
        # character alphabet[b % len(alphabet)]; the table maps it to that index.
        size = len(alphabet)
        bound = 256 - 256 % size
        self._reject = bytes(range(bound, 256))
        self._table = bytes(b % size for b in range(256))
        # For an ASCII alphabet, a kept byte straight to its character's byte (one translate).
        self._ascii = (
            bytes(ord(alphabet[b % size]) for b in range(256)) if alphabet.isascii() else None
        )

    def generate(self) -> str:
        """Random bytes in rounds of twice the length, rejected ones dropped, the first
        ``length`` kept ones as characters."""
        if self._ascii is not None:  # the same characters as below, without a loop in Python
            text = b""
            while len(text) < self._length:
                text += self._random_bytes(self._length * 2).translate(self._ascii, self._reject)
            return text[: self._length].decode("ascii")
        kept = b""
        while len(kept) < self._length:
            kept += self._random_bytes(self._length * 2).translate(self._table, self._reject)
        alphabet = self._alphabet
        return "".join([alphabet[i] for i in kept[: self._length]])

    def reseed(self, random_bytes: RandomBytes) -> None:
        self._random_bytes = random_bytes


@dataclass(frozen=True, slots=True)
class SecretHash:
    """A salted SHA-256 of a secret. ``encoded`` is what the state stores."""

    encoded: str

    @classmethod
    def of(cls, secret: str, salt: bytes | None = None) -> SecretHash:
        salt = salt if salt is not None else secrets.token_bytes(16)
        digest = hashlib.sha256(salt + secret.encode()).hexdigest()
        return cls(f"sha256${salt.hex()}${digest}")

    def matches(self, candidate: str) -> bool:
        return self.matcher()(candidate)

    def matcher(self) -> Callable[[str], bool]:
        """:meth:`matches` with the stored form read once, for a hash asked about many times."""
        try:
            scheme, salt_hex, digest = self.encoded.split("$")
            salt = bytes.fromhex(salt_hex)
        except ValueError:
            return _never
        if scheme != "sha256":
            return _never

        def matches(candidate: str) -> bool:
            actual = hashlib.sha256(salt + candidate.encode()).hexdigest()
            return hmac.compare_digest(actual, digest)

        return matches

    @property
    def fingerprint(self) -> str:
        """A short, non-reversible name for the secret, safe to show (12 hex digits)."""
        return hashlib.sha256(self.encoded.encode()).hexdigest()[:12]


def token_digest(token: str) -> str:
    """Bearer tokens are looked up by digest; the plaintext is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _never(_candidate: str) -> bool:
    return False
