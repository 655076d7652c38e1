"""``make bench``: the mock against a bare ASGI baseline and Stoplight Prism, on loopback.

Run ``python -m bench --help``. Results go to ``bench/results.md``; the profile notes are in
``bench/PROFILE.md``.
"""
