#!/usr/bin/env python3
"""Run a local ring of N Apache Cassandra nodes on consecutive loopback addresses (fault tests).

Each node is a plain JVM (same jars, templates and flags as node.py) with its own address
(127.0.0.2, .3, ... by default: the shared single node keeps 127.0.0.1), its own run dir, token,
pid file and log; node 1 is the seed. Nodes can be stopped, killed (-9), paused (SIGSTOP),
resumed (SIGCONT) and started again one by one, and nodetool runs from the same jars over JMX
(Cassandra binds a node's local JMX to 127.0.0.1, so each node gets port JMX_BASE + last octet).

Subcommands (the settings of `up` are kept in <run dir>/ring.json for the others):
  up [--nodes 3] [--auth] [--tls] ...   start every node, one after another, wait for CQL
  down                                  stop every node (paused ones are resumed first)
  status                                pid/state/CQL per node, then `nodetool status`
  stop|kill|pause|resume|start N        act on node N (1-based); start keeps its data
  nodetool N ARGS...                    run nodetool against node N
  flush|repair [KEYSPACE]               nodetool flush / repair --full on every running node
  url KEYSPACE                          print a store URL for the ring (TLS options included)

Standard library only (Python 3.11+), plus openssl and the JDK's keytool for --tls.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import node as single  # the sibling module: jars, templates, JVM flags, pid checks

DEFAULT_NODES = 3
DEFAULT_FIRST_ADDRESS = "127.0.0.2"
DEFAULT_HEAP = "512M"
DEFAULT_MEMTABLE = "64MiB"
JMX_BASE = 7400
CLUSTER_NAME = "ledger-tui-ring"
NODETOOL_CLASS = "org.apache.cassandra.tools.NodeTool"
TLS_DAYS = 30

ENV_HELP = f"""\
environment:
  LEDGER_RING_RUN_DIR        run dir (node1/, node2/, ..., tls/, ring.json); default <repo>/.run/ring
  LEDGER_RING_FIRST_ADDRESS  address of node 1 (node N: first + N - 1); default {DEFAULT_FIRST_ADDRESS}
  LEDGER_CASSANDRA_LIB_DIR, JAVA_HOME, XDG_CACHE_HOME   as for node.py

files in the run dir:
  nodeN/                     a node.py run dir (conf, data, logs/system.log, cassandra.pid, node.json)
  credentials.toml           with --auth: the superuser's name and password (mode 0600)
  tls/ca.pem                 with --tls: the CA that signed every node's and the client's certificate
  tls/client.pem, client.key a client certificate and key (for require_client_auth)
"""


def say(msg: str) -> None:
    print(f"[ring] {msg}", flush=True)


class Ring:
    """The ring's settings (from flags on `up`, else from ring.json) and each node's paths."""

    def __init__(self, run_dir: Path, settings: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.settings = settings
        self.nodes: int = int(settings["nodes"])
        self.first = ipaddress.IPv4Address(settings["first_address"])
        self.tls_dir = run_dir / "tls"
        self.credentials_file = run_dir / "credentials.toml"

    @classmethod
    def load(cls, run_dir: Path) -> Ring:
        try:
            settings = json.loads((run_dir / "ring.json").read_text())
        except (OSError, ValueError):
            raise single.NodeError(f"no ring in {run_dir} (run `ring.py up` first)") from None
        return cls(run_dir, settings)

    def save(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "ring.json").write_text(json.dumps(self.settings, indent=1) + "\n")

    def address(self, n: int) -> str:
        return str(self.first + (n - 1))

    def paths(self, n: int) -> single.Paths:
        return single.Paths(self.run_dir / f"node{n}")

    def jmx_port(self, n: int) -> int:
        return int(self.settings.get("jmx_base", JMX_BASE)) + int(self.address(n).rsplit(".", 1)[1])

    def token(self, n: int) -> str:
        return str(-(2**63) + (n - 1) * (2**64 // self.nodes))

    def check(self, n: int) -> None:
        if not 1 <= n <= self.nodes:
            raise single.NodeError(f"node {n} does not exist (the ring has nodes 1..{self.nodes})")


def _run_dir() -> Path:
    raw = os.environ.get("LEDGER_RING_RUN_DIR", "").strip()
    return Path(raw).expanduser().resolve() if raw else single.REPO / ".run" / "ring"


# --------------------------------------------------------------------------------------------
# Authentication and TLS material
# --------------------------------------------------------------------------------------------


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise single.NodeError(f"openssl {args[0]} failed: {done.stderr.strip()[-500:]}")


def make_certificate(tls: Path, name: str, subject: str, alt_names: str | None) -> None:
    """A key and a certificate signed by tls/ca.pem (with subjectAltName if given)."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", subject, cwd=tls)  # fmt: skip
    ext = tls / f"{name}.ext"
    ext.write_text(f"subjectAltName={alt_names}\n" if alt_names else "basicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", f"{name}.pem", "-days", str(TLS_DAYS), "-extfile", ext.name, cwd=tls)  # fmt: skip
    os.chmod(tls / f"{name}.key", 0o600)


def make_tls(ring: Ring) -> str:
    """A CA, one PKCS12 keystore per node (certificate for its IP), a truststore with the CA
    (for client-certificate checks) and a client certificate; returns the stores' password."""
    tls = ring.tls_dir
    shutil.rmtree(tls, ignore_errors=True)
    tls.mkdir(parents=True)
    os.chmod(tls, 0o700)
    password = secrets.token_hex(12)
    _write_private(tls / "store-password", password + "\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", str(TLS_DAYS), "-subj", "/CN=ledger-tui test CA", cwd=tls)  # fmt: skip
    for n in range(1, ring.nodes + 1):
        address = ring.address(n)
        make_certificate(tls, f"node{n}", f"/CN={address}", f"IP:{address}")
        _openssl("pkcs12", "-export", "-in", f"node{n}.pem", "-inkey", f"node{n}.key",
                 "-certfile", "ca.pem", "-name", f"node{n}", "-out", f"node{n}.p12",
                 "-passout", f"pass:{password}", cwd=tls)  # fmt: skip
    make_certificate(tls, "client", "/CN=ledger-tui client", None)
    java_home = single.find_java_home()
    done = subprocess.run(
        [str(java_home / "bin" / "keytool"), "-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem",
         "-keystore", "truststore.p12", "-storetype", "PKCS12", "-storepass", password],
        cwd=tls, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise single.NodeError(f"keytool -importcert failed: {done.stderr.strip()[-500:]}")
    return password


def extra_yaml(ring: Ring, n: int) -> str:
    """The per-node yaml lines: bootstrap, authentication and client TLS."""
    s = ring.settings
    lines = [f"auto_bootstrap: {'true' if n == 1 else 'false'}"]
    if s.get("auth"):
        lines += [
            "authenticator: PasswordAuthenticator",
            "authorizer: CassandraAuthorizer",
            "role_manager: CassandraRoleManager",
        ]
    if s.get("tls"):
        password = (ring.tls_dir / "store-password").read_text().strip()
        lines += [
            "client_encryption_options:",
            "  enabled: true",
            "  optional: false",
            f"  keystore: {ring.tls_dir / f'node{n}.p12'}",
            f"  keystore_password: {password}",
            "  store_type: PKCS12",
            f"  require_client_auth: {'true' if s.get('tls_client_auth') else 'false'}",
            f"  truststore: {ring.tls_dir / 'truststore.p12'}",
            f"  truststore_password: {password}",
        ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# One node
# --------------------------------------------------------------------------------------------


def node_pid(ring: Ring, n: int) -> int | None:
    paths = ring.paths(n)
    pid = single._read_pid(paths)
    if pid is None or not single._is_our_node(paths, pid):
        return None
    return pid


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "?"


def start_node(ring: Ring, n: int, *, keep_data: bool, timeout: float) -> float:
    """Start node n (render its config, launch the JVM) and wait until it answers CQL."""
    if node_pid(ring, n) is not None:
        say(f"node {n} already runs")
        return 0.0
    paths, address = ring.paths(n), ring.address(n)
    if single.port_open(single.DEFAULT_NATIVE_PORT, address, timeout=0.5):
        raise single.NodeError(
            f"something already listens on {address}:{single.DEFAULT_NATIVE_PORT} and it is not node {n} "
            f"of {ring.run_dir}: {single._describe_listener(single.DEFAULT_NATIVE_PORT)}"
        )
    java_home = single.find_java_home()
    single.ensure_jars(paths, java_home)
    if not keep_data and paths.storage_dir.exists():
        shutil.rmtree(paths.storage_dir)
    for d in (paths.storage_dir, paths.log_dir, paths.triggers_dir):
        d.mkdir(parents=True, exist_ok=True)
    single.rotate_logs(paths)
    single.render_conf(
        paths,
        single.DEFAULT_NATIVE_PORT,
        single.DEFAULT_STORAGE_PORT,
        address=address,
        token=ring.token(n),
        seeds=f"{ring.address(1)}:{single.DEFAULT_STORAGE_PORT}",
        cluster_name=CLUSTER_NAME,
        memtable=DEFAULT_MEMTABLE,
        extra=extra_yaml(ring, n),
    )
    cmd = single.java_command(
        paths,
        java_home,
        ring.settings["heap"],
        unsafe_system=bool(ring.settings.get("unsafe_system")),
        quick_jit=bool(ring.settings.get("quick_jit")),
        jmx_port=ring.jmx_port(n),
    )
    env = dict(os.environ, JAVA_HOME=str(java_home), MALLOC_ARENA_MAX="2")
    with paths.out_file.open("ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=paths.run_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    paths.pid_file.write_text(f"{proc.pid}\n")
    paths.state_file.write_text(json.dumps({"pid": proc.pid, "address": address, "node": n}) + "\n")
    say(f"node {n}: starting on {address} (pid {proc.pid}, token {ring.token(n)}, jmx {ring.jmx_port(n)})")
    waited = single.wait_ready(paths, single.DEFAULT_NATIVE_PORT, proc.pid, timeout, proc, host=address)
    say(f"node {n}: answering CQL on {address}:{single.DEFAULT_NATIVE_PORT} after {waited:.1f}s")
    return waited


def signal_node(ring: Ring, n: int, how: str) -> None:
    """stop (SIGTERM, wait), kill (SIGKILL), pause (SIGSTOP) or resume (SIGCONT) node n."""
    pid = node_pid(ring, n)
    if pid is None:
        say(f"node {n} is not running")
        return
    if how == "stop":
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
        single.stop_pid(ring.paths(n), pid)
        ring.paths(n).pid_file.unlink(missing_ok=True)
        return
    sig = {"kill": signal.SIGKILL, "pause": signal.SIGSTOP, "resume": signal.SIGCONT}[how]
    os.kill(pid, sig)
    if how == "kill":
        t0 = time.monotonic()
        while single._is_alive(pid) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        ring.paths(n).pid_file.unlink(missing_ok=True)
    say(f"node {n} (pid {pid}): {how}")


def nodetool(ring: Ring, n: int, args: list[str], check: bool = True) -> int:
    """Run nodetool from the node's jars against node n's JMX port; returns its exit status."""
    paths = ring.paths(n)
    java_home = single.find_java_home()
    cmd = [
        str(java_home / "bin" / "java"),
        "-Xmx256m",
        "-XX:+UseSerialGC",
        f"-Dlogback.configurationFile={paths.logback}",
        f"-Dcassandra.logdir={paths.log_dir}",
        "-Dcassandra.storagedir=" + str(paths.storage_dir),
        *[f"--add-exports={m}=ALL-UNNAMED" for m in single.JAVA17_ADD_EXPORTS],
        *[f"--add-opens={m}=ALL-UNNAMED" for m in single.JAVA17_ADD_OPENS],
        "-cp",
        f"{paths.conf_dir}{os.pathsep}{paths.lib_dir}/*",
        NODETOOL_CLASS,
        "-h",
        "127.0.0.1",
        "-p",
        str(ring.jmx_port(n)),
        *args,
    ]
    code = subprocess.run(cmd, stdin=subprocess.DEVNULL).returncode
    if check and code != 0:
        raise single.NodeError(f"nodetool {' '.join(args)} on node {n} exited {code}")
    return code


# --------------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    run_dir = _run_dir()
    from_env = os.environ.get("LEDGER_RING_FIRST_ADDRESS", "").strip()
    first = args.first_address or from_env or DEFAULT_FIRST_ADDRESS
    try:
        first_ip = ipaddress.IPv4Address(first)
    except ValueError:
        raise single.NodeError(f"--first-address {first!r} is not an IPv4 address") from None
    if not first_ip.is_loopback or not (first_ip + (args.nodes - 1)).is_loopback:
        raise single.NodeError("ring addresses must be loopback addresses (127.x.y.z)")
    settings = {
        "nodes": args.nodes,
        "first_address": first,
        "heap": args.heap,
        "auth": args.auth,
        "tls": args.tls or args.tls_client_auth,
        "tls_client_auth": args.tls_client_auth,
        "unsafe_system": args.unsafe_system,
        "quick_jit": args.quick_jit,
        "jmx_base": args.jmx_base,
    }
    with contextlib.suppress(single.NodeError):
        old = Ring.load(run_dir)
        running = any(node_pid(old, n) for n in range(1, old.nodes + 1))
        if running and (not args.keep_data or old.settings != settings):
            raise single.NodeError(f"a ring already runs from {run_dir}: run `ring.py down` first")
    ring = Ring(run_dir, settings)
    ring.save()
    if ring.settings["tls"] and not (args.keep_data and (ring.tls_dir / "ca.pem").exists()):
        make_tls(ring)
        say(f"TLS: CA {ring.tls_dir / 'ca.pem'}; client cert {ring.tls_dir / 'client.pem'}")
    if ring.settings["auth"]:
        _write_private(ring.credentials_file, '[cassandra]\nusername = "cassandra"\npassword = "cassandra"\n')
        say(f"authentication: credentials in {ring.credentials_file}")
    t0 = time.monotonic()
    for n in range(1, ring.nodes + 1):
        try:
            start_node(ring, n, keep_data=args.keep_data, timeout=args.timeout)
        except BaseException:
            for m in range(1, n):
                signal_node(ring, m, "stop")
            raise
    span = f"{ring.address(1)}..{ring.address(ring.nodes)}"
    say(f"ring of {ring.nodes} up in {time.monotonic() - t0:.1f}s: {span}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    try:
        ring = Ring.load(_run_dir())
    except single.NodeError:
        say("no ring (nothing to stop)")
        return 0
    for n in range(ring.nodes, 0, -1):
        signal_node(ring, n, "kill" if args.kill else "stop")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    ring = Ring.load(_run_dir())
    answering = 0
    for n in range(1, ring.nodes + 1):
        pid, address = node_pid(ring, n), ring.address(n)
        if pid is None:
            say(f"node {n} {address}: down")
            continue
        state = "paused" if _proc_state(pid) == "T" else "running"
        cql = single.answering(ring.paths(n), single.DEFAULT_NATIVE_PORT, address) and state == "running"
        answering += cql
        say(f"node {n} {address}: {state} (pid {pid}), CQL {'answering' if cql else 'not answering'}")
    say(f"{answering}/{ring.nodes} answering CQL")
    if answering and not args.quick:
        first_up = next(n for n in range(1, ring.nodes + 1) if node_pid(ring, n) is not None)
        nodetool(ring, first_up, ["status"], check=False)
    return 0 if answering == ring.nodes else 1


def cmd_node(args: argparse.Namespace) -> int:
    ring = Ring.load(_run_dir())
    ring.check(args.n)
    if args.command == "start":
        start_node(ring, args.n, keep_data=True, timeout=args.timeout)
    else:
        signal_node(ring, args.n, args.command)
    return 0


def cmd_nodetool(args: argparse.Namespace) -> int:
    ring = Ring.load(_run_dir())
    ring.check(args.n)
    return nodetool(ring, args.n, args.args, check=False)


def cmd_each(args: argparse.Namespace) -> int:
    """flush or repair on every running node."""
    ring = Ring.load(_run_dir())
    extra = ["--full"] if args.command == "repair" else []
    status = 0
    for n in range(1, ring.nodes + 1):
        if node_pid(ring, n) is None:
            say(f"node {n} is down: skipped")
            status = 1
            continue
        t0 = time.monotonic()
        keyspace = [args.keyspace] if args.keyspace else []
        code = nodetool(ring, n, [args.command, *extra, *keyspace], check=False)
        say(f"node {n}: {args.command} exit {code} in {time.monotonic() - t0:.1f}s")
        status = status or code
    return status


def cmd_url(args: argparse.Namespace) -> int:
    ring = Ring.load(_run_dir())
    hosts = ",".join(ring.address(n) for n in range(1, ring.nodes + 1))
    query = f"replication={min(3, ring.nodes)}"
    if ring.settings.get("tls"):
        query += f"&tls=true&ca={ring.tls_dir / 'ca.pem'}"
    print(f"cassandra://{hosts}/{args.keyspace}?{query}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="ring.py", description=__doc__, epilog=ENV_HELP, formatter_class=fmt
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser(
        "up", help="start the ring and wait for every node", epilog=ENV_HELP, formatter_class=fmt
    )
    up.add_argument("--nodes", type=int, default=DEFAULT_NODES, help=f"nodes (default {DEFAULT_NODES})")
    up.add_argument("--first-address", help=f"node 1's address (default {DEFAULT_FIRST_ADDRESS})")
    up.add_argument("--heap", default=DEFAULT_HEAP, help=f"JVM heap per node (default {DEFAULT_HEAP})")
    up.add_argument("--auth", action="store_true", help="PasswordAuthenticator (superuser cassandra)")
    up.add_argument("--tls", action="store_true", help="client TLS with certificates made in <run>/tls")
    up.add_argument("--tls-client-auth", action="store_true", help="--tls and require client certificates")
    up.add_argument("--keep-data", action="store_true", help="reuse the data dirs (default: start empty)")
    up.add_argument("--unsafe-system", action="store_true", help="skip schema fsyncs (not durable)")
    up.add_argument("--quick-jit", action="store_true", help="C1 JIT only: half the CPU, not for benchmarks")
    up.add_argument("--jmx-base", type=int, default=JMX_BASE, help="JMX port = base + last address octet")
    up.add_argument("--timeout", type=float, default=single.START_BUDGET_S, help="seconds per node")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop every node")
    down.add_argument("--kill", action="store_true", help="SIGKILL, no clean stop (a throwaway ring)")
    down.set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="each node's state and nodetool status (exit 0 if all answer)")
    status.add_argument("--quick", action="store_true", help="skip nodetool status")
    status.set_defaults(func=cmd_status)
    for name, text in (
        ("stop", "SIGTERM node N and wait"),
        ("kill", "SIGKILL node N"),
        ("pause", "SIGSTOP node N"),
        ("resume", "SIGCONT node N"),
        ("start", "start node N again (data kept) and wait for CQL"),
    ):
        one = sub.add_parser(name, help=text)
        one.add_argument("n", type=int, metavar="N")
        one.add_argument("--timeout", type=float, default=single.START_BUDGET_S)
        one.set_defaults(func=cmd_node)
    tool = sub.add_parser("nodetool", help="nodetool against node N")
    tool.add_argument("n", type=int, metavar="N")
    tool.add_argument("args", nargs=argparse.REMAINDER)
    tool.set_defaults(func=cmd_nodetool)
    for name in ("flush", "repair"):
        each = sub.add_parser(name, help=f"nodetool {name} on every running node")
        each.add_argument("keyspace", nargs="?")
        each.set_defaults(func=cmd_each)
    url = sub.add_parser("url", help="a store URL for the ring")
    url.add_argument("keyspace")
    url.set_defaults(func=cmd_url)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except single.NodeError as exc:
        print(f"[ring] error: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
