"""Secrets: CSPRNG or seeded, the configured alphabet and length, stored only as salted hashes."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from zitadel_mock.domain.client_secrets import (
    ALPHABET,
    IssuedSecrets,
    SecretGenerator,
    SecretHash,
    seeded_random_bytes,
    system_random_bytes,
    token_digest,
)


def test_default_secret_is_64_characters_of_letters_and_digits() -> None:
    secret = SecretGenerator(system_random_bytes()).generate()
    assert re.fullmatch(r"[A-Za-z0-9]{64}", secret)


def test_secrets_do_not_repeat() -> None:
    generator = SecretGenerator(system_random_bytes())
    assert len({generator.generate() for _ in range(2000)}) == 2000


def test_same_seed_gives_the_same_secrets() -> None:
    first = SecretGenerator(seeded_random_bytes(3))
    second = SecretGenerator(seeded_random_bytes(3))
    assert [first.generate() for _ in range(5)] == [second.generate() for _ in range(5)]
    assert (
        SecretGenerator(seeded_random_bytes(4)).generate()
        != SecretGenerator(seeded_random_bytes(3)).generate()
    )


def test_characters_are_drawn_uniformly() -> None:
    # Rejection sampling: with a plain modulo, the first 256 % 62 = 8 characters would come
    # up 5/4 as often as the others. 200,000 draws put each near 3,226; 5/4 would be ~4,000.
    generator = SecretGenerator(seeded_random_bytes(1), length=1000)
    counts = Counter("".join(generator.generate() for _ in range(200)))
    assert set(counts) == set(ALPHABET)
    expected = 200_000 / len(ALPHABET)
    assert max(counts.values()) < expected * 1.1
    assert min(counts.values()) > expected * 0.9


def test_custom_length_and_alphabet() -> None:
    secret = SecretGenerator(seeded_random_bytes(1), length=10, alphabet="ab").generate()
    assert re.fullmatch(r"[ab]{10}", secret)


@pytest.mark.parametrize(("length", "alphabet"), [(0, "ab"), (5, ""), (5, "aa")])
def test_unusable_generator_settings_are_refused(length: int, alphabet: str) -> None:
    with pytest.raises(ValueError, match="must"):
        SecretGenerator(system_random_bytes(), length=length, alphabet=alphabet)


def test_hash_matches_only_its_secret() -> None:
    stored = SecretHash.of("right")
    assert stored.matches("right")
    assert not stored.matches("wrong")
    assert "right" not in stored.encoded


def test_hashes_are_salted() -> None:
    assert SecretHash.of("same").encoded != SecretHash.of("same").encoded


@pytest.mark.parametrize("encoded", ["", "md5$00$00", "sha256$zz$00", "garbage"])
def test_malformed_hashes_match_nothing(encoded: str) -> None:
    assert not SecretHash(encoded).matches("")


def test_fingerprint_is_short_and_stable() -> None:
    stored = SecretHash.of("secret", salt=b"\x00" * 16)
    assert stored.fingerprint == SecretHash.of("secret", salt=b"\x00" * 16).fingerprint
    assert re.fullmatch(r"[0-9a-f]{12}", stored.fingerprint)


def test_token_digest_hides_the_token() -> None:
    assert token_digest("admin-pat") != "admin-pat"
    assert len(token_digest("admin-pat")) == 64


def test_system_bytes_hand_out_every_byte_once_across_pages() -> None:
    draw = system_random_bytes()
    sizes = [16, 128, 7, 4096, 5000, 1] * 40  # crosses page ends, and one draw past a page
    drawn = [draw(size) for size in sizes]
    assert [len(d) for d in drawn] == sizes
    chunks = [d[i : i + 16] for d in drawn for i in range(0, len(d) - 15, 16)]
    assert len(set(chunks)) == len(chunks)  # no 16 bytes handed out twice


def test_a_forked_child_draws_other_bytes_than_its_parent() -> None:
    draw = system_random_bytes()
    draw(16)  # a page is held
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next bytes, to the parent
        os.write(write, draw(64))
        os._exit(0)
    os.close(write)
    child = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 64
    assert child != draw(64)


def test_a_seeded_generator_is_predictable_and_the_system_one_is_not() -> None:
    assert SecretGenerator(seeded_random_bytes(1)).predictable
    assert not SecretGenerator(system_random_bytes()).predictable


def test_issued_secrets_keep_the_newest_and_forget_the_oldest_first() -> None:
    issued = IssuedSecrets(keep=3)
    hashes = [SecretHash.of(f"secret-{n}") for n in range(5)]
    for n, secret_hash in enumerate(hashes):
        issued.record(f"secret-{n}", secret_hash)
    assert issued.count == 5
    kept = [issued.covers(h.encoded) for h in hashes]
    held = [issued.holds(issued.digest(f"secret-{n}")) for n in range(5)]
    assert kept == held == [False, False, True, True, True]
