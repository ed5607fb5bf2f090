"""scripts/bootstrap.sh's java_home: the home of the first Java 17 or later - JAVA_HOME's, then the one on PATH -
which ansible-rulebook needs; an older Java is passed over."""
from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def fake_java(home: Path, version: str) -> Path:
    """A `java` that answers -version as OpenJDK does (on stderr)."""
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f'#!/bin/sh\necho \'openjdk version "{version}" 2025-04-15\' >&2\n')
    java.chmod(0o755)
    return home


def java_home(java_home_env: str, path: str) -> str:
    script = f'source <(sed -n "/^java_home()/,/^}}/p" {REPO}/scripts/bootstrap.sh); java_home'
    done = subprocess.run(["bash", "-c", script], env={"JAVA_HOME": java_home_env, "PATH": path},
                          capture_output=True, text=True, check=False)
    return done.stdout.strip()


def test_java_home_of_17_or_later_wins(tmp_path: Path):
    home = fake_java(tmp_path / "jdk21", "21.0.5")
    assert java_home(str(home), "/usr/bin:/bin") == str(home)


def test_an_older_java_home_is_passed_over_for_the_java_on_path(tmp_path: Path):
    old = fake_java(tmp_path / "jdk11", "11.0.2")
    new = fake_java(tmp_path / "jdk17", "17.0.15")
    assert java_home(str(old), f"{new / 'bin'}:/usr/bin:/bin") == str(new)
