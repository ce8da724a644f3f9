"""Fixtures shared by the compat tests."""
import os
import pathlib
import tarfile
import tempfile

import pytest

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "node-hello"


@pytest.fixture
def package():
    """A file:// URL of a .tar.gz holding examples/node-hello under one top-level folder, in the
    directory the server lets confined builds read (OPENSTAGE_COMPAT_SOURCE_DIR, its
    deploy.sourceRoots), readable by every user."""
    folder = pathlib.Path(tempfile.mkdtemp(dir=os.environ["OPENSTAGE_COMPAT_SOURCE_DIR"]))
    folder.chmod(0o755)
    archive = folder / "node-hello.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(EXAMPLE, arcname="node-hello")
    return archive.as_uri()
