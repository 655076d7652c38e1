"""``zitadel-mock verify [URL]``: the contract suite as one command, for CI and operators.

It checks the options first (an unsafe or incomplete target is refused before pytest starts),
then runs ``pytest --pyargs zitadel_contract.suite`` in this process (``pytest.main``, as
``python -m pytest`` would, without a second interpreter's start), with the project's own
pytest settings out of the way and tokens passed in the environment, never on a command line.
The ``verify`` commands end their process as soon as that run is over (:func:`finish`). The
exit codes are the plugin's (:data:`zitadel_contract.preflight.EXIT_CODES`): 0 the contract
holds, 1 broken promises, 2 usage error or safety refusal, 3 target unreachable, 4 credentials
or app wrong, 5 nothing ran. The plugin turns pytest's own usage errors in a contract run (a bad
``-k`` expression, say) into 2.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from zitadel_contract import collector
from zitadel_contract.exit_codes import EXIT_CODES, USAGE
from zitadel_contract.settings import OPTIONS, SettingsError, resolve

PACKAGE_DIR = Path(__file__).resolve().parent
SECRET_OPTIONS = frozenset({"token", "no_permission_token"})


def _parser(prog: str) -> argparse.ArgumentParser:
    variables = "\n".join(f"  {o.env:<48} {'URL' if o.name == 'url' else o.cli}" for o in OPTIONS)
    codes = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Check a server that claims to implement ZITADEL's Generate New OIDC Client "
        "Secret against the contract. Without URL, a mock is started and checked.",
        epilog=f"Every option can come from the environment instead:\n{variables}\n\n"
        f"Exit codes (the same from the pytest plugin):\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for option in OPTIONS:
        if option.name == "url":
            parser.add_argument("url", nargs="?", default=None, help=option.help)
        elif option.is_flag:
            parser.add_argument(
                option.cli, dest=option.name, action="store_true", default=None, help=option.help
            )
        else:
            parser.add_argument(
                option.cli,
                dest=option.name,
                default=None,
                help=option.help,
                metavar=option.metavar or option.name.upper(),
            )
    parser.add_argument("-k", dest="select", metavar="EXPR", help="run only matching tests")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="list every test")
    return parser


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The pytest command line for a parsed ``verify`` command line."""
    words = ["--pyargs", "zitadel_contract.suite", "--rootdir", str(PACKAGE_DIR)]
    words += ["-c", str(PACKAGE_DIR / "verify.ini")]
    # Without -v, the closing summary (causes, each once) replaces pytest's failure sections,
    # which would repeat a cause under every test it broke; the JUnit report keeps them all.
    words += ["-v"] * args.verbose if args.verbose else ["-q", "--tb=no"]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        words += ["-p", "zitadel_contract.plugin"]
    if args.select:
        words += ["-k", args.select]
    for option in OPTIONS:
        value = getattr(args, option.name)
        if value is None or option.name in SECRET_OPTIONS:
            continue
        if option.name == "junit":
            words += ["--junitxml", str(value)]
        elif option.is_flag:
            words.append(option.pytest_flag)
        else:
            words += [option.pytest_flag, str(value)]
    return words


def main(argv: Sequence[str] | None = None, prog: str = "zitadel-mock verify") -> int:
    args = _parser(prog).parse_args(argv)
    try:
        resolve({o.name: getattr(args, o.name) for o in OPTIONS})
    except SettingsError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return USAGE
    env: dict[str, str] = {}
    for option in OPTIONS:
        if option.name in SECRET_OPTIONS and getattr(args, option.name) is not None:
            env[option.env] = getattr(args, option.name)
    words = pytest_arguments(args)
    # Hypothesis keeps its caches (its UTF-8 table, say) in a folder deleted after the run, not
    # in the caller's working directory.
    with tempfile.TemporaryDirectory(prefix="zitadel-contract-") as scratch:
        defaults = {"HYPOTHESIS_STORAGE_DIRECTORY": scratch}
        # grpcio's core logs every refused TLS handshake and GOAWAY at INFO on stderr; the
        # suite reports what matters itself.
        defaults["GRPC_VERBOSITY"] = "ERROR"
        for name, value in defaults.items():
            env.setdefault(name, os.environ.get(name, value))
        with environment(env):
            return run_pytest(words)


def run_pytest(words: list[str]) -> int:
    """pytest's run of ``words`` in this process; its exit code."""
    collector.pause()  # until the plugin has frozen what start-up built
    try:
        import pytest  # noqa: PLC0415 - not for --help or a refused command line

        return int(pytest.main(words))
    finally:
        collector.resume()


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` (where the plugin reads tokens and Hypothesis its storage
    directory), and the environment as it was afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def finish(code: int) -> NoReturn:
    """End the process with ``code``: what it wrote is flushed and its exit handlers run, but
    the interpreter does not take apart everything the run loaded (pytest, schemathesis,
    Hypothesis, the specs: about 0.1 s) when the process ends anyway. For the commands only:
    :func:`main` returns."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def verify_command(argv: Sequence[str] | None, prog: str) -> NoReturn:
    """``zitadel-mock verify`` and ``zitadel-contract``: :func:`main`, then the process ends."""
    code = main(argv, prog=prog)
    finish(code)


def console() -> NoReturn:
    """The ``zitadel-contract`` command: ``zitadel-mock verify`` without the mock's stack."""
    verify_command(None, prog="zitadel-contract")


if __name__ == "__main__":
    verify_command(None, prog="zitadel-mock verify")
