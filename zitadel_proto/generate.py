"""Generate the Python code of this package's ``.proto`` files (needs grpcio-tools).

``python -m zitadel_proto.generate [--out DIR]`` writes, under ``DIR`` (default: the directory
that holds this package), ``zitadel_proto/zitadel/*_pb2.py`` and ``*_pb2.pyi`` for the ZITADEL
messages (v1 management, v2 application, v2beta app), and
``zitadel_proto/google/rpc/status.binpb``: google.rpc.Status as a serialized FileDescriptorSet,
loaded by :mod:`zitadel_proto.status` into a descriptor pool of its own. The generated
files are committed; a test regenerates them and compares.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Final

PACKAGE: Final = "zitadel_proto"
ROOT: Final = Path(__file__).resolve().parent.parent
MESSAGE_PROTOS: Final = (
    f"{PACKAGE}/zitadel/object.proto",
    f"{PACKAGE}/zitadel/message.proto",
    f"{PACKAGE}/zitadel/app.proto",
    f"{PACKAGE}/zitadel/project.proto",
    f"{PACKAGE}/zitadel/management.proto",
    f"{PACKAGE}/zitadel/application_v2.proto",
    f"{PACKAGE}/zitadel/app_v2beta.proto",
)
STATUS_PROTO: Final = f"{PACKAGE}/google/rpc/status.proto"
STATUS_DESCRIPTOR: Final = f"{PACKAGE}/google/rpc/status.binpb"


def generated_files() -> list[str]:
    """Paths, relative to the output directory, of every file :func:`generate` writes."""
    stems = [p.removesuffix(".proto") for p in MESSAGE_PROTOS]
    return [f"{s}_pb2.{ext}" for s in stems for ext in ("py", "pyi")] + [STATUS_DESCRIPTOR]


def generate(out: Path, root: Path = ROOT) -> None:
    """Compile the protos found under ``root`` into ``out``."""
    from grpc_tools import protoc  # noqa: PLC0415 - a development tool, not a runtime need

    well_known = resources.files("grpc_tools").joinpath("_proto")
    include = [f"-I{root}", f"-I{well_known}"]
    out.mkdir(parents=True, exist_ok=True)
    runs = [
        [*include, f"--python_out={out}", f"--pyi_out={out}", *MESSAGE_PROTOS],
        [*include, f"--descriptor_set_out={out / STATUS_DESCRIPTOR}", STATUS_PROTO],
    ]
    (out / STATUS_DESCRIPTOR).parent.mkdir(parents=True, exist_ok=True)
    for args in runs:
        if protoc.main(["protoc", *args]) != 0:
            raise SystemExit(f"protoc failed: {' '.join(args)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zitadel_proto.generate")
    parser.add_argument("--out", type=Path, default=ROOT, help="output root (default: the repo)")
    args = parser.parse_args(argv)
    generate(args.out)
    for name in generated_files():
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
