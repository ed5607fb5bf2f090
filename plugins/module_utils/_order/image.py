"""Docker image references: `ubuntu`, `ubuntu:latest`, `library/ubuntu` and `docker.io/library/ubuntu:latest` are
one image. Clore may list an order under another spelling of the image it was created with, so orders are matched
to a task by the image they run, not by the text."""
from __future__ import annotations

DOCKER_HUB = "docker.io"
# Other names of Docker Hub's registry.
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


def image_reference(image: str | None) -> str | None:
    """The fully qualified reference `registry/path:tag` (or `@digest`); None for no image."""
    if image is None or not str(image).strip():
        return None
    name = str(image).strip()
    digest = ""
    if "@" in name:
        name, _at, digest = name.partition("@")
        digest = "@" + digest
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:  # a ':' in the last part is a tag; one before a '/' is a registry port
        name, _colon, tag = name.rpartition(":")
    first, _slash, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first.lower(), rest
    else:
        registry, path = DOCKER_HUB, name
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    if not tag and not digest:
        tag = "latest"
    return f"{registry}/{path.lower()}" + (f":{tag}" if tag else "") + digest


def same_image(first: str | None, second: str | None) -> bool:
    """Whether two image names are the same Docker reference."""
    return image_reference(first) == image_reference(second)
