"""Each provisioned order's machine: a real OpenSSH sshd on its public port, isolated in its own mount namespace
when the simulator runs as root.

Per order, under <state dir>/orders/<id>/: sshd/ (config, host key, authorized_keys, optional shadow), root/, tmp/,
var-tmp/, workspace/ and bin/ (bound on /root, /tmp, /var/tmp, /workspace and /usr/local/bin inside), rootfs/ (the
mount point of the isolated root), sshd.pid and sshd.log. These directories survive a restart of the simulator.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import nvidia_smi
from .market import gpu_of

SSHD = "/usr/sbin/sshd"
INSIDE_CONFIG_DIR = "/run/clore-sim"
START_TIMEOUT = 15.0

# Runs as root in a fresh mount namespace (unshare --mount --propagation private): assembles a root whose host
# directories are read-only binds and whose /root, /tmp, /var/tmp, /workspace, /usr/local/bin are the order's own,
# hides the state dir, then becomes sshd inside it (exec keeps the pid).
SETUP_SCRIPT = r"""
set -e
R="$1"; O="$2"; STATE="$3"; CONFIG="$4"
mount -t tmpfs -o mode=0755 clore-sim-root "$R"
for entry in /*; do
  name="${entry#/}"
  case "$name" in proc|sys|dev|run|tmp|root|workspace|lost+found) continue ;; esac
  if [ -L "$entry" ]; then
    cp -P "$entry" "$R/$name"
  elif [ -d "$entry" ]; then
    mkdir "$R/$name"
    mount --rbind "$entry" "$R/$name"
    mount -o remount,bind,ro "$R/$name"
  fi
done
mkdir -p "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/tmp" "$R/root" "$R/workspace"
mount --rbind /dev "$R/dev"
mount --rbind /proc "$R/proc"
mount --rbind /sys "$R/sys"
mount -o remount,bind,ro "$R/sys"
mount -t tmpfs -o mode=0755 clore-sim-run "$R/run"
mkdir -m 0755 "$R/run/sshd" "$R/run/clore-sim" "$R/run/lock"
mount --bind "$O/sshd" "$R/run/clore-sim"
mount --bind "$O/root" "$R/root"
mount --bind "$O/tmp" "$R/tmp"
mount --bind "$O/workspace" "$R/workspace"
if [ -d "$R/var/tmp" ]; then mount --bind "$O/var-tmp" "$R/var/tmp"; fi
mount --bind "$O/bin" "$R/usr/local/bin"
if [ -f "$O/sshd/shadow" ]; then mount --bind "$O/sshd/shadow" "$R/etc/shadow"; fi
if [ -d "$R$STATE" ]; then mount -t tmpfs -o mode=0755,size=1m clore-sim-hidden "$R$STATE"; fi
mount -o remount,ro "$R"
exec chroot "$R" /usr/sbin/sshd -D -e -f "$CONFIG"
"""


def password_hash(password: str) -> str:
    """A SHA-512 crypt hash (for /etc/shadow inside the order); the password itself is never stored."""
    result = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True, text=True,
                            check=True)
    return result.stdout.strip()


def wait_banner(host: str, port: int, timeout: float = 10.0, process: subprocess.Popen | None = None) -> str | None:
    """The SSH banner of host:port once it answers, or None after `timeout` seconds (or when `process` ends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        try:
            with socket.create_connection((host, port), timeout=1.0) as conn:
                conn.settimeout(1.0)
                banner = conn.recv(256)
                if banner.startswith(b"SSH-"):
                    return banner.decode(errors="replace").strip()
        except OSError:
            pass
        time.sleep(0.05)
    return None


def _mount_ns(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _processes() -> dict[int, int]:
    """pid -> parent pid of every process."""
    result = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                result[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return result


def _victims(pid: int, namespace: str | None, anchors: set[int] | None = None) -> set[int]:
    """The process, its descendants, and everything in its private mount namespace. A namespace's number is
    reused once its last process is gone (by another order, or another clore-sim on the machine): its members
    count only while one of `anchors` (default: the process itself) is still in it after the scan."""
    parents = _processes()
    found = {pid} if pid in parents else set()
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    own = _mount_ns(os.getpid())
    if namespace and namespace != own:
        members = {p for p in parents if _mount_ns(p) == namespace}
        if any(_mount_ns(a) == namespace for a in (anchors or {pid})):
            found |= members
    found.discard(os.getpid())
    return found


def _deepest_first(pid: int, victims: set[int]) -> list[set[int]]:
    """The victims by their depth under `pid`, deepest first; those not under it (a job's process that left its
    shell, now init's child) come first of all."""
    children: dict[int, list[int]] = {}
    for child, parent in _processes().items():
        children.setdefault(parent, []).append(child)
    levels = [{pid} & victims]
    placed = set(levels[0])
    while levels[-1]:
        below = {c for parent in levels[-1] for c in children.get(parent, ()) if c in victims and c not in placed}
        placed |= below
        levels.append(below)
    levels[-1] = victims - placed
    return [level for level in reversed(levels) if level]


def kill_all(pid: int, namespace: str | None, grace: float = 2.0) -> None:
    """SIGTERM to the order's processes, deepest first and each level once the one below is reaped, so that each is
    reaped by its own parent: the CPU seconds of the commands run over SSH then add up to the sshd's, to clore-sim's
    and to those of whoever started it (a process orphaned before it ends is reaped by init, and its seconds vanish
    from that accounting). SIGKILL to whatever is left after `grace`."""
    victims = _victims(pid, namespace)
    deadline = time.monotonic() + grace
    for level in _deepest_first(pid, victims):
        for victim in level:
            try:
                os.kill(victim, signal.SIGTERM)
            except ProcessLookupError:
                pass
        # Reaped, not only dead (a zombie's parent has not taken its seconds yet); `pid` itself only dead: the caller
        # reaps it.
        while time.monotonic() < deadline and any(_alive(v) if v == pid else _exists(v) for v in level):
            time.sleep(0.01)
    if not any(_alive(v) for v in victims):
        # All gone, the namespace too: its number may already name another order's new namespace (of this or
        # another simulator on the machine), whose processes are not ours to kill.
        return
    for victim in _victims(pid, namespace, victims) | victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _exists(pid: int) -> bool:
    """Not reaped yet (running, or a zombie whose parent has not waited for it)."""
    return os.path.exists(f"/proc/{pid}")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class SilentListener:
    """Accepts connections on a port and never answers: SSH is 'unreachable' though the port is open."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn = self.sock.accept()[0]
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for conn in self.held:
            conn.close()


class SshManager:
    """Starts and stops order machines from one worker thread, so that API requests never wait for them."""

    def __init__(self, state_dir: Path, listen: str, isolate: bool, market: dict[int, dict], log=None) -> None:
        self.state_dir = state_dir.resolve()
        self.listen = listen
        self.isolate = isolate
        self.market = market
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.running: dict[int, subprocess.Popen] = {}
        self.silent: dict[int, SilentListener] = {}
        self.ports: dict[int, int] = {}
        self._queue: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.RLock()

    # ----- the worker -----
    def start_worker(self) -> None:
        self._worker = threading.Thread(target=self._work, name="clore-sim-ssh", daemon=True)
        self._worker.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            action, done, *args = item
            try:
                getattr(self, action)(*args)
            except Exception as err:  # one order's failure must not stop the others
                self.log(f"clore-sim: ssh {action} failed ({args[:1]}): {err}")
            finally:
                done.set()

    def request(self, action: str, *args) -> threading.Event:
        """Queue start(order) / stop(order_id) / reachable(order, bool) / run(function, *args); the event is set
        once the worker has carried it out."""
        done = threading.Event()
        self._queue.put((action, done, *args))
        return done

    def drain(self) -> None:
        """Finish every queued action and stop the worker."""
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=60)
            self._worker = None

    @staticmethod
    def run(function, *args) -> None:
        function(*args)

    # ----- one order -----
    def order_dir(self, order_id: int) -> Path:
        return self.state_dir / "orders" / str(order_id)

    def wants_ssh(self, order: dict) -> bool:
        return order["ports"].get(22) == "tcp" and bool(order["ssh_key"] or order["ssh_password_hash"])

    def start(self, order: dict) -> None:
        if not self.wants_ssh(order) or order["ended_at"] is not None:
            return
        order_id = order["id"]
        port = order["public_ports"][22]
        with self._lock:
            self.ports[order_id] = port
            if order_id in self.running and self.running[order_id].poll() is None:
                return
            if not order.get("ssh_reachable", True):
                self._go_silent(order_id, port)
                return
            directory = self._prepare(order, port)
            log = open(directory / "sshd.log", "ab")
            config = f"{INSIDE_CONFIG_DIR}/sshd_config" if self.isolate else str(directory / "sshd" / "sshd_config")
            if self.isolate:
                command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", SETUP_SCRIPT,
                           "clore-sim-setup", str(directory / "rootfs"), str(directory), str(self.state_dir), config]
            else:
                if os.geteuid() == 0:
                    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
                command = [SSHD, "-D", "-e", "-f", config]
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       start_new_session=True, close_fds=True)
            log.close()
            self.running[order_id] = process
            (directory / "sshd.pid").write_text(json.dumps({"pid": process.pid}))
        if wait_banner(self.listen, port, timeout=START_TIMEOUT, process=process) is None:
            log_tail = (directory / "sshd.log").read_text(errors="replace")[-600:]
            self.log(f"clore-sim: ERROR: the sshd of order {order_id} does not answer on port {port} "
                     f"(exit status {process.poll()}): {log_tail.strip() or 'no output'}")

    def _prepare(self, order: dict, port: int) -> Path:
        directory = self.order_dir(order["id"])
        for name, mode in (("sshd", 0o755), ("root", 0o700), ("tmp", 0o1777), ("var-tmp", 0o1777),
                           ("workspace", 0o755), ("bin", 0o755), ("rootfs", 0o755)):
            (directory / name).mkdir(parents=True, exist_ok=True)
            os.chmod(directory / name, mode)
        sshd_dir = directory / "sshd"
        host_key = sshd_dir / "ssh_host_ed25519_key"
        if not host_key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"clore-sim-order-{order['id']}",
                            "-f", str(host_key)], check=True, stdin=subprocess.DEVNULL)
        keys = sshd_dir / "authorized_keys"
        keys.write_text((order["ssh_key"] or "") + "\n")
        os.chmod(keys, 0o600)
        inside = INSIDE_CONFIG_DIR if self.isolate else str(sshd_dir)
        password = bool(order["ssh_password_hash"]) and self.isolate
        if password:
            self._write_shadow(sshd_dir / "shadow", order["ssh_password_hash"])
        server = self.market.get(order["si"], {})
        model, count, memory = gpu_of(server)
        smi = directory / "bin" / "nvidia-smi"
        smi.write_text(nvidia_smi.render(model, count, memory, server.get("cuda_version"), order["id"]))
        os.chmod(smi, 0o755)
        lines = [
            f"Port {port}",
            f"ListenAddress {self.listen}",
            f"HostKey {inside}/ssh_host_ed25519_key",
            "PidFile none",
            f"AuthorizedKeysFile {inside}/authorized_keys",
            f"PermitRootLogin {'yes' if password else 'prohibit-password'}",
            "PubkeyAuthentication yes",
            f"PasswordAuthentication {'yes' if password else 'no'}",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            # Unisolated, the state dir may sit under a world-writable directory such as /tmp.
            f"StrictModes {'yes' if self.isolate else 'no'}",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "MaxStartups 100:30:200",
            "MaxSessions 50",
            "LogLevel ERROR",
            "AcceptEnv LANG LC_*",
            "Subsystem sftp internal-sftp",
        ]
        if not self.isolate:
            # No private /usr/local/bin: put the order's bin (nvidia-smi) first on the PATH instead.
            lines.append(f"SetEnv PATH={directory / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        (sshd_dir / "sshd_config").write_text("\n".join(lines) + "\n")
        return directory

    @staticmethod
    def _write_shadow(path: Path, root_hash: str) -> None:
        lines = []
        for line in Path("/etc/shadow").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == "root" and len(fields) > 1:
                fields[1] = root_hash
            lines.append(":".join(fields))
        path.write_text("\n".join(lines) + "\n")
        os.chmod(path, 0o640)

    def stop(self, order_id: int) -> None:
        with self._lock:
            silent = self.silent.pop(order_id, None)
            if silent:
                silent.close()
            process = self.running.pop(order_id, None)
        if process is not None:
            kill_all(process.pid, _mount_ns(process.pid))
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        pid_file = self.order_dir(order_id) / "sshd.pid"
        pid_file.unlink(missing_ok=True)

    def reachable(self, order: dict, reachable: bool) -> None:
        order_id = order["id"]
        if reachable:
            with self._lock:
                silent = self.silent.pop(order_id, None)
            if silent:
                silent.close()
            self.start(order)
        else:
            self.stop(order_id)
            if self.wants_ssh(order) and order["ended_at"] is None:
                self._go_silent(order_id, order["public_ports"][22])

    def silent_connections(self, order_id: int) -> int:
        """How many connections the order's silent SSH port holds (0 while it answers)."""
        with self._lock:
            silent = self.silent.get(order_id)
        return len(silent.held) if silent else 0

    def _go_silent(self, order_id: int, port: int) -> None:
        with self._lock:
            if order_id not in self.silent:
                self.silent[order_id] = SilentListener(self.listen, port)

    def stop_all(self) -> None:
        for order_id in list(set(self.running) | set(self.silent)):
            self.stop(order_id)

    def cleanup_stale(self) -> None:
        """Kill what a previous run that died without shutting down left behind (pid files in the state dir)."""
        for pid_file in (self.state_dir / "orders").glob("*/sshd.pid"):
            try:
                pid = json.loads(pid_file.read_text())["pid"]
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except (OSError, ValueError, KeyError):
                pid_file.unlink(missing_ok=True)
                continue
            ours = f"{INSIDE_CONFIG_DIR}/sshd_config".encode() in cmdline or str(pid_file.parent).encode() in cmdline
            if b"sshd" in cmdline and ours:
                self.log(f"clore-sim: stopping sshd {pid} left by an earlier run")
                kill_all(pid, _mount_ns(pid))
            pid_file.unlink(missing_ok=True)


def isolation_available() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None
