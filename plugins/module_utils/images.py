"""Image identity: which texts name one Docker image, in one place for clore_order, clore_order_info, the inventory
plugin and the playbooks (the clore.ai.image_id filter).

`ubuntu`, `ubuntu:latest`, `library/ubuntu`, `index.docker.io/library/ubuntu` and `docker.io/library/ubuntu:latest`
are one image; Clore may list an order under another spelling of the image it was created with, so orders are matched
by the image they run, not by the text. With a digest, the digest names the image and a tag beside it is ignored, as
Docker pulls it.
"""
from __future__ import annotations

import re

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError

DOCKER_HUB = "docker.io"
# Other names of Docker Hub's registry.
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")
_HUB_PREFIX = DOCKER_HUB + "/"

# Docker's reference grammar (distribution/reference), which the checks below hold user input to.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_HOST = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                   r"(?::[0-9]+)?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")


def _split(image: str) -> tuple[str, str, str, str]:
    """(registry or '', path, tag or '', digest or '') of a reference, as written."""
    name, _at, digest = image.partition("@")
    tag = ""
    if ":" in name.rsplit("/", 1)[-1]:  # a ':' in the last part is a tag; one before a '/' is a registry port
        name, _colon, tag = name.rpartition(":")
    first, _slash, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest, tag, digest
    return "", name, tag, digest


def image_reference(image: str | None) -> str | None:
    """The fully qualified reference `registry/path:tag` (or `registry/path@digest`); None for no image.

    Lenient, for images as Clore lists them: the registry and path are compared without case.
    """
    if image is None or not str(image).strip():
        return None
    registry, path, tag, digest = _split(str(image).strip())
    registry = registry.lower() or DOCKER_HUB
    path = path.lower()
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    if digest:
        return f"{registry}/{path}@{digest.lower()}"
    return f"{registry}/{path}:{tag or 'latest'}"


def same_image(first: str | None, second: str | None) -> bool:
    """Whether two image names are the same Docker reference."""
    return image_reference(first) == image_reference(second)


def checked_reference(image: object, name: str) -> str:
    """The reference of an image a user gave in `name`; CloreConfigError naming `name` for one Docker would refuse."""
    if not isinstance(image, str) or not image.strip():
        raise CloreConfigError(f"{name}: {image!r} is not an image; give a Docker image such as ubuntu:22.04",
                               option=name)
    text = image.strip()
    registry, path, tag, digest = _split(text)
    problem = None
    if any(c.isspace() for c in text):
        problem = "it contains a space"
    elif path != path.lower():
        problem = "Docker refuses upper-case letters in an image's name (the tag may have them)"
    elif not _PATH.match(path):
        problem = "the name may hold only lower-case letters, digits and . _ - between parts separated by /"
    elif registry and not _HOST.match(registry):
        problem = f"{registry!r} is not a registry host (name or address, optionally :port)"
    elif ":" in text.partition("@")[0].rsplit("/", 1)[-1] and not _TAG.match(tag):
        problem = f"{tag!r} is not a tag (letters, digits, _ . -, at most 128, not starting with . or -)"
    elif "@" in text and not _DIGEST.match(digest):
        problem = f"{digest!r} is not a digest (algorithm:hex, for example sha256:<64 hex digits>)"
    if problem:
        raise CloreConfigError(f"{name}: {image!r} is not a Docker image reference: {problem}", option=name)
    return image_reference(text)  # type: ignore[return-value]  # never None for a non-empty text


def hub_spelling(image: str | None) -> str | None:
    """The image as Clore stores Docker Hub names, to send it: without a leading `docker.io/`."""
    if image is None:
        return None
    image = image.strip()
    return image[len(_HUB_PREFIX):] if image.startswith(_HUB_PREFIX) else image
