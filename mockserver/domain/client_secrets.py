"""Client secrets: generated from a CSPRNG (or a seed), stored only as salted hashes.

A plaintext secret lives in exactly one place: the response that returns it. Everything kept is a
:class:`SecretHash`, and what is shown to people is a short fingerprint of that hash.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import secrets
import string
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

ALPHABET: Final = string.ascii_letters + string.digits
DEFAULT_LENGTH: Final = 64

RandomBytes = Callable[[int], bytes]


class _SystemBytes:
    """Bytes from the operating system's CSPRNG, drawn a page at a time (one system call for a
    few dozen secrets and salts, not two for each). Every byte is handed out once; a forked
    child starts with none of its parent's."""

    PAGE: Final = 4096

    def __init__(self) -> None:
        self._page = b""
        self._at = 0
        os.register_at_fork(after_in_child=self._forget)

    def __call__(self, size: int) -> bytes:
        if size > self.PAGE:
            return os.urandom(size)
        if self._at + size > len(self._page):
            self._page, self._at = os.urandom(self.PAGE), 0
        start = self._at
        self._at = start + size
        return self._page[start : self._at]

    def _forget(self) -> None:
        self._page, self._at = b"", 0


_system_bytes: Final = _SystemBytes()
_UNFORESEEABLE: Final[tuple[RandomBytes, ...]] = (_system_bytes, secrets.token_bytes, os.urandom)


def system_random_bytes() -> RandomBytes:
    """Bytes from the operating system's CSPRNG."""
    return _system_bytes


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

    @property
    def predictable(self) -> bool:
        """Whether a secret could be known before it is drawn: true unless the bytes come from
        the operating system's CSPRNG (any other source counts as foreseeable, such as a seed)."""
        return self._random_bytes not in _UNFORESEEABLE


@dataclass(frozen=True, slots=True)
class SecretHash:
    """A salted SHA-256 of a secret. ``encoded`` is what the state stores."""

    encoded: str

    @classmethod
    def of(cls, secret: str, salt: bytes | None = None) -> SecretHash:
        salt = salt if salt is not None else _system_bytes(16)
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


class IssuedSecrets:
    """The newest secrets this process issued, each kept only as a keyed digest (never as text),
    with the stored hash it was issued under.

    It answers, in one keyed hash of a word and without the salted hash of each live secret,
    whether that word is one of them; and which stored hashes belong to them. The journal uses
    both to redact every secret issued here, live or replaced since.

    The digest is Python's own string hash when the interpreter randomises it (SipHash under a
    key drawn at start and never shown; cached on the string, so asking about the same header
    value again costs nothing), else a keyed BLAKE2b under a key of this process's own. Both are
    64 bits: a collision makes a harmless word look like a secret (it is redacted), and to hide
    a secret behind one, a caller would have to know the secret and the key.
    """

    __slots__ = ("_by_hash", "_digests", "_keep", "count", "digest")
    DEFAULT_KEEP: Final = 4096

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self._keep = keep
        # In the order issued, the oldest first (an OrderedDict: a plain dict's first key is
        # found by skipping the slots of every key removed before it).
        self._by_hash: OrderedDict[str, int] = OrderedDict()
        self._digests: set[int] = set()
        self.count = 0  # secrets issued so far
        # What a word is known by, here and only here.
        self.digest: Callable[[str], int] = word_digest()

    def record(self, secret: str, secret_hash: SecretHash) -> None:
        """Remember ``secret``, just issued under ``secret_hash`` (once it is committed: a
        secret never handed out is not one)."""
        digest = self.digest(secret)
        self._by_hash[secret_hash.encoded] = digest
        self._digests.add(digest)
        self.count += 1
        if len(self._by_hash) > self._keep:
            self._digests.discard(self._by_hash.popitem(last=False)[1])

    def covers(self, encoded: str) -> bool:
        """Whether the stored hash ``encoded`` is one of a secret issued here (and kept)."""
        return encoded in self._by_hash

    def holds(self, digest: int) -> bool:
        """Whether the word of this :meth:`digest` is a secret issued here (and kept)."""
        return digest in self._digests


def word_digest() -> Callable[[str], int]:
    """A keyed 64-bit digest of words, its key drawn anew for each call (see
    :class:`IssuedSecrets`)."""
    if sys.flags.hash_randomization:
        return hash
    key = os.urandom(16)

    def digest(word: str) -> int:
        keyed = hashlib.blake2b(word.encode(), key=key, digest_size=8)
        return int.from_bytes(keyed.digest(), "big")

    return digest


def token_digest(token: str) -> str:
    """Bearer tokens are looked up by digest; the plaintext is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _never(_candidate: str) -> bool:
    return False
