#!/usr/bin/env python3
"""Run ONE local Apache Cassandra 5.0.8 node for ledger-tui development and tests (no Docker).

The node is a plain JVM process: its jars come from Maven Central (cassandra-all and its run-time
dependencies, fetched once with Maven into a cache dir), its cassandra.yaml and logback.xml are
rendered from the templates next to this script into a run dir, and it listens on 127.0.0.1.

Subcommands:
  up      fetch jars if needed, start the node in the background, wait until CQL answers
  down    stop the node started by `up` (SIGTERM, then SIGKILL after 60 s; by pid file only)
  status  say whether the node runs and answers CQL (exit 0 if answering, 1 otherwise)
  logs    print the tail of the node's log

Standard library only (Python 3.11+).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

CASSANDRA_VERSION = "5.0.8"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies"
MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon"
READY_LINE = "Starting listening for CQL clients"
DEFAULT_JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
ADDRESS = "127.0.0.1"
DEFAULT_NATIVE_PORT = 9042
DEFAULT_STORAGE_PORT = 7000
DEFAULT_HEAP = "1G"
INITIAL_TOKEN = "-9223372036854775808"
CLUSTER_NAME = "ledger-tui"
START_BUDGET_S = 180.0
STOP_BUDGET_S = 60.0
PROGRESS_EVERY_S = 5.0
TAIL_LINES = 60
KEEP_LOGS = 5

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

ENV_HELP = f"""\
environment:
  LEDGER_CASSANDRA_RUN_DIR       run dir (conf, data, logs, pid file); default <repo>/.run/cassandra
  LEDGER_CASSANDRA_PORT          CQL (native transport) port on {ADDRESS}; default {DEFAULT_NATIVE_PORT}
  LEDGER_CASSANDRA_STORAGE_PORT  internode (storage) port on {ADDRESS}; default {DEFAULT_STORAGE_PORT}
  LEDGER_CASSANDRA_HEAP          JVM heap (-Xms/-Xmx); default {DEFAULT_HEAP}
  LEDGER_CASSANDRA_LIB_DIR       jar cache dir; default
                                 ${{XDG_CACHE_HOME:-~/.cache}}/ledger-tui/cassandra-{CASSANDRA_VERSION}/lib
  JAVA_HOME                      used if it is a Java 17, else {DEFAULT_JAVA_HOME}
  XDG_CACHE_HOME                 base of the default jar cache dir

files in the run dir:
  conf/cassandra.yaml, conf/logback.xml   rendered from tools/cassandra/*.in / logback.xml
  data/                                   data, commitlog, hints, saved_caches, cdc_raw
  logs/system.log                         the node's log (INFO+); logs/previous/ keeps the last 5 runs' logs
  cassandra.out                           the JVM's stdout/stderr (WARN+ only)
  cassandra.pid, node.json                pid file and the settings the node was started with
"""

# Module flags Cassandra 5.0 itself uses on Java 17 (conf/jvm17-server.options).
JAVA17_ADD_EXPORTS = [
    "java.base/jdk.internal.misc",
    "java.management.rmi/com.sun.jmx.remote.internal.rmi",
    "java.management/com.sun.jmx.remote.security",
    "java.rmi/sun.rmi.registry",
    "java.rmi/sun.rmi.server",
    "java.sql/java.sql",
    "java.base/java.lang.ref",
    "jdk.unsupported/sun.misc",
    "jdk.attach/sun.tools.attach",
    "jdk.compiler/com.sun.tools.javac.file",
]
JAVA17_ADD_OPENS = [
    "java.base/java.lang.module",
    "java.base/jdk.internal.loader",
    "java.base/jdk.internal.ref",
    "java.base/jdk.internal.reflect",
    "java.base/jdk.internal.math",
    "java.base/jdk.internal.module",
    "java.base/jdk.internal.util.jar",
    "jdk.management/com.sun.management.internal",
    "java.base/sun.nio.ch",
    "java.base/java.io",
    "java.base/java.lang.reflect",
    "java.base/java.lang",
    "java.base/java.util",
    "java.base/java.nio",
    "jdk.compiler/com.sun.tools.javac",
]


class NodeError(Exception):
    """A failure to report to the user (message printed, exit status 1)."""


def say(msg: str) -> None:
    print(f"[cassandra] {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# Settings and paths
# --------------------------------------------------------------------------------------------


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise NodeError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise NodeError(f"{name}={raw!r} is out of range")
    return port


class Paths:
    def __init__(self, run_dir: Path | None = None) -> None:
        run = os.environ.get("LEDGER_CASSANDRA_RUN_DIR", "").strip()
        if run_dir is not None:
            self.run_dir = run_dir.resolve()
        else:
            self.run_dir = Path(run).expanduser().resolve() if run else REPO / ".run" / "cassandra"
        lib = os.environ.get("LEDGER_CASSANDRA_LIB_DIR", "").strip()
        if lib:
            self.lib_dir = Path(lib).expanduser().resolve()
        else:
            cache = os.environ.get("XDG_CACHE_HOME", "").strip()
            cache_root = Path(cache).expanduser() if cache else Path.home() / ".cache"
            self.lib_dir = (cache_root / "ledger-tui" / f"cassandra-{CASSANDRA_VERSION}" / "lib").resolve()
        self.lib_marker = self.lib_dir / ".complete.json"
        self.conf_dir = self.run_dir / "conf"
        self.yaml = self.conf_dir / "cassandra.yaml"
        self.logback = self.conf_dir / "logback.xml"
        self.storage_dir = self.run_dir / "data"
        self.log_dir = self.run_dir / "logs"
        self.triggers_dir = self.run_dir / "triggers"
        self.log_file = self.log_dir / "system.log"
        self.out_file = self.run_dir / "cassandra.out"
        self.pid_file = self.run_dir / "cassandra.pid"
        self.state_file = self.run_dir / "node.json"


# --------------------------------------------------------------------------------------------
# Java
# --------------------------------------------------------------------------------------------


def _java_major(java_home: Path) -> int | None:
    """Major version of the JDK/JRE at java_home, or None if it is not one."""
    java = java_home / "bin" / "java"
    if not (java.is_file() and os.access(java, os.X_OK)):
        return None
    release = java_home / "release"
    if release.is_file():
        m = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(errors="replace"), re.M)
        if m:
            return int(m.group(1))
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(m.group(1)) if m else None


def find_java_home() -> Path:
    env = os.environ.get("JAVA_HOME", "").strip()
    if env:
        home = Path(env)
        major = _java_major(home)
        if major == 17:
            return home
        say(
            f"ignoring JAVA_HOME={env} (Java {major or 'not found'}; Cassandra {CASSANDRA_VERSION} "
            f"is run on Java 17); using {DEFAULT_JAVA_HOME}"
        )
    if _java_major(DEFAULT_JAVA_HOME) == 17:
        return DEFAULT_JAVA_HOME
    raise NodeError(f"no Java 17 found: set JAVA_HOME to a Java 17 or install {DEFAULT_JAVA_HOME}")


# --------------------------------------------------------------------------------------------
# Jars
# --------------------------------------------------------------------------------------------


def _lib_complete(paths: Paths) -> bool:
    try:
        marker = json.loads(paths.lib_marker.read_text())
    except (OSError, ValueError):
        return False
    jars = marker.get("jars") or []
    if marker.get("version") != CASSANDRA_VERSION or not jars:
        return False
    return all((paths.lib_dir / j).is_file() for j in jars)


def ensure_jars(paths: Paths, java_home: Path) -> None:
    """Copy cassandra-all and its run-time dependencies into the jar cache (once)."""
    if _lib_complete(paths):
        return
    mvn = shutil.which("mvn")
    if not mvn:
        raise NodeError("Maven (`mvn`) is needed once to fetch the Cassandra jars; it is not on PATH")
    paths.lib_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.lib_dir.with_name(f"{paths.lib_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(HERE / "pom.xml"),
        MAVEN_DEPENDENCY_PLUGIN,
        "-DincludeScope=runtime",
        f"-DoutputDirectory={tmp}",
    ]
    say(f"fetching cassandra-all {CASSANDRA_VERSION} jars from Maven into {paths.lib_dir} (first run)")
    say("  " + " ".join(cmd))
    env = dict(os.environ, JAVA_HOME=str(java_home))
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as mvn_out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=mvn_out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        next_report = t0 + PROGRESS_EVERY_S
        while True:
            try:
                proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() >= next_report:
                say(f"  still fetching jars ... {time.monotonic() - t0:.0f}s")
                next_report += PROGRESS_EVERY_S
        mvn_out.seek(0)
        output = mvn_out.read().decode(errors="replace")
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        detail = "\n".join(output.splitlines()[-TAIL_LINES:])
        raise NodeError(f"Maven failed (exit {proc.returncode}):\n{detail}")
    jars = sorted(p.name for p in tmp.glob("*.jar"))
    if f"cassandra-all-{CASSANDRA_VERSION}.jar" not in jars or not any(j.startswith("jamm-") for j in jars):
        shutil.rmtree(tmp, ignore_errors=True)
        raise NodeError(f"Maven finished but cassandra-all/jamm jars are missing from {tmp}")
    shutil.rmtree(paths.lib_dir, ignore_errors=True)
    tmp.rename(paths.lib_dir)
    paths.lib_marker.write_text(
        json.dumps(
            {"version": CASSANDRA_VERSION, "jars": jars, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
            indent=1,
        )
        + "\n"
    )
    size = sum((paths.lib_dir / j).stat().st_size for j in jars)
    say(f"fetched {len(jars)} jars ({size / 1e6:.0f} MB) in {time.monotonic() - t0:.1f}s")


def _jamm_jar(paths: Paths) -> Path:
    jars = sorted(paths.lib_dir.glob("jamm-*.jar"))
    if not jars:
        raise NodeError(f"no jamm jar in {paths.lib_dir}")
    return jars[-1]


# --------------------------------------------------------------------------------------------
# Config rendering and command line
# --------------------------------------------------------------------------------------------


def render_conf(
    paths: Paths,
    native_port: int,
    storage_port: int,
    *,
    address: str = ADDRESS,
    token: str = INITIAL_TOKEN,
    seeds: str | None = None,
    cluster_name: str = CLUSTER_NAME,
    memtable: str = "128MiB",
    extra: str = "",
) -> None:
    """Write cassandra.yaml (from the template) and logback.xml into the run dir's conf dir."""
    paths.conf_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "CLUSTER_NAME": cluster_name,
        "ADDRESS": address,
        "SEEDS": seeds or f"{address}:{storage_port}",
        "MEMTABLE": memtable,
        "EXTRA": extra,
        "NATIVE_PORT": str(native_port),
        "STORAGE_PORT": str(storage_port),
        "INITIAL_TOKEN": token,
        "DATA_DIR": str(paths.storage_dir / "data"),
        "COMMITLOG_DIR": str(paths.storage_dir / "commitlog"),
        "HINTS_DIR": str(paths.storage_dir / "hints"),
        "SAVED_CACHES_DIR": str(paths.storage_dir / "saved_caches"),
        "CDC_RAW_DIR": str(paths.storage_dir / "cdc_raw"),
    }
    text = (HERE / "cassandra.yaml.in").read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{\w+\}\}", text)
    if left:
        raise NodeError(f"unsubstituted placeholders in cassandra.yaml.in: {sorted(set(left))}")
    paths.yaml.write_text(text)
    shutil.copyfile(HERE / "logback.xml", paths.logback)


def java_command(
    paths: Paths,
    java_home: Path,
    heap: str,
    *,
    unsafe_system: bool = False,
    quick_jit: bool = False,
    jmx_port: int | None = None,
) -> list[str]:
    """The JVM command line of one node. ``unsafe_system`` skips fsyncs of schema and system
    tables (faster start, but a kill -9 can forget a keyspace: never for durability tests).
    ``quick_jit`` compiles with the JVM's quick compiler only (C1): a short-lived test node spends
    about half the CPU (no optimising compiler threads), at a lower peak speed, so never for a
    benchmark. ``jmx_port`` opens JMX on 127.0.0.1 only (Cassandra binds local JMX to loopback)."""
    cmd = [
        str(java_home / "bin" / "java"),
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-Xss256k",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        f"-XX:ErrorFile={paths.log_dir}/hs_err_pid%p.log",
        f"-javaagent:{_jamm_jar(paths)}",
        "-Djava.net.preferIPv4Stack=true",
        "-Dchronicle.analytics.disable=true",
        "-Djdk.attach.allowAttachSelf=true",
        "-Dio.netty.tryReflectionSetAccessible=true",
    ]
    for mod in JAVA17_ADD_EXPORTS:
        cmd.append(f"--add-exports={mod}=ALL-UNNAMED")
    for mod in JAVA17_ADD_OPENS:
        cmd.append(f"--add-opens={mod}=ALL-UNNAMED")
    cmd += [
        f"-Dcassandra.config={paths.yaml.as_uri()}",
        "-Dcassandra-foreground=yes",
        f"-Dcassandra.storagedir={paths.storage_dir}",
        f"-Dcassandra.logdir={paths.log_dir}",
        f"-Dcassandra.triggers_dir={paths.triggers_dir}",
        f"-Dlogback.configurationFile={paths.logback}",
        # Fast start for a throw-away test node.
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        "-Dcassandra.ring_delay_ms=1000",
        "-Dcassandra.superuser_setup_delay_ms=0",
    ]
    if unsafe_system:
        cmd.append("-Dcassandra.unsafesystem=true")
    if quick_jit:
        cmd.append("-XX:TieredStopAtLevel=1")
    if jmx_port is not None:
        cmd += [f"-Dcassandra.jmx.local.port={jmx_port}", "-Dcom.sun.management.jmxremote.authenticate=false"]
    cmd += ["-cp", f"{paths.conf_dir}{os.pathsep}{paths.lib_dir}/*", MAIN_CLASS]
    return cmd


def rotate_logs(paths: Paths, keep: int = KEEP_LOGS) -> None:
    """Move the previous run's logs to logs/previous/<time>-<name> and keep the newest ``keep`` runs,
    so a fresh log never matches an old readiness line and a crash's log survives a restart."""
    previous = paths.log_dir / "previous"
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.monotonic_ns() % 1000000:06d}"
    moved = False
    for f in (paths.log_file, paths.out_file):
        if f.exists():
            previous.mkdir(parents=True, exist_ok=True)
            f.replace(previous / f"{stamp}-{f.name}")
            moved = True
    if not moved:
        return
    runs = sorted({p.name.split("-", 2)[0] + "-" + p.name.split("-", 2)[1] for p in previous.iterdir()})
    for old in runs[:-keep]:
        for p in previous.glob(f"{old}-*"):
            p.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Process and port inspection
# --------------------------------------------------------------------------------------------


def _read_pid(paths: Paths) -> int | None:
    try:
        return int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_state(paths: Paths) -> dict[str, Any]:
    try:
        state = json.loads(paths.state_file.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        state = stat.rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def _is_our_node(paths: Paths, pid: int) -> bool:
    """True if pid is alive and is the Cassandra JVM we started with this run dir's config."""
    if not _is_alive(pid):
        return False
    args = _cmdline(pid)
    if args is None:
        return False
    return MAIN_CLASS in args and f"-Dcassandra.config={paths.yaml.as_uri()}" in args


def our_pid(paths: Paths) -> int | None:
    """Pid of our running node from the pid file, or None (removing a stale pid file)."""
    pid = _read_pid(paths)
    if pid is None:
        if paths.pid_file.exists():
            paths.pid_file.unlink(missing_ok=True)
        return None
    if _is_our_node(paths, pid):
        return pid
    say(f"removing stale pid file {paths.pid_file} (pid {pid} is not our Cassandra node)")
    paths.pid_file.unlink(missing_ok=True)
    return None


def port_open(port: int, host: str = ADDRESS, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _listener_pids(port: int) -> list[tuple[int, str]]:
    """Best effort: (pid, command) of processes listening on TCP `port` (Linux /proc only)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    found: list[tuple[int, str]] = []
    if not inodes:
        return found
    targets = {f"socket:[{i}]" for i in inodes}
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            for fd in (proc_dir / "fd").iterdir():
                if os.readlink(fd) in targets:
                    args = _cmdline(int(proc_dir.name)) or []
                    found.append((int(proc_dir.name), re.sub(r"\s+", " ", " ".join(args))[:160]))
                    break
        except OSError:
            continue
    return found


def _describe_listener(port: int) -> str:
    who = _listener_pids(port)
    if not who:
        return "(owner unknown)"
    return "; ".join(f"pid {pid}: {cmd}" for pid, cmd in who)


def log_has_ready_line(paths: Paths) -> bool:
    try:
        with paths.log_file.open("rb") as f:
            return READY_LINE.encode() in f.read()
    except OSError:
        return False


def speaks_cql(port: int, host: str = ADDRESS, timeout: float = 2.0) -> bool:
    """Whether the listener answers a CQL OPTIONS request with SUPPORTED (native protocol v4)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(bytes([0x04, 0, 0, 0, 0x05, 0, 0, 0, 0]))  # version, flags, stream, OPTIONS, length
            header = conn.recv(9)
            return len(header) >= 5 and header[0] == 0x84 and header[4] == 0x06  # response, SUPPORTED
    except OSError:
        return False


def answering(paths: Paths, port: int, host: str = ADDRESS) -> bool:
    """CQL answers: the node logged its ready line, or (a long-running node whose log has rotated
    past that line) the listener answers a CQL request."""
    return port_open(port, host) and (log_has_ready_line(paths) or speaks_cql(port, host))


def tail(path: Path, n: int) -> list[str]:
    try:
        with path.open("r", errors="replace") as f:
            return list(deque(f, maxlen=n))
    except OSError:
        return []


def print_tails(paths: Paths, n: int = TAIL_LINES) -> None:
    lines = tail(paths.log_file, n)
    print(f"----- last {len(lines)} lines of {paths.log_file} -----", file=sys.stderr)
    sys.stderr.write("".join(lines) or "(empty or missing)\n")
    out = tail(paths.out_file, n)
    if out:
        print(f"----- last {len(out)} lines of {paths.out_file} (JVM stdout/stderr) -----", file=sys.stderr)
        sys.stderr.write("".join(out))
    sys.stderr.flush()


# --------------------------------------------------------------------------------------------
# Stop
# --------------------------------------------------------------------------------------------


def stop_pid(paths: Paths, pid: int, budget: float = STOP_BUDGET_S) -> None:
    """SIGTERM pid, wait up to `budget` s, then SIGKILL that pid only."""
    say(f"stopping node (pid {pid}) with SIGTERM")
    t0 = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    next_report = t0 + PROGRESS_EVERY_S
    while _is_alive(pid) and time.monotonic() - t0 < budget:
        time.sleep(0.25)
        if time.monotonic() >= next_report:
            say(f"  waiting for pid {pid} to exit ... {time.monotonic() - t0:.0f}s")
            next_report += PROGRESS_EVERY_S
    if _is_alive(pid):
        say(f"pid {pid} still alive after {budget:.0f}s; sending SIGKILL")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        t1 = time.monotonic()
        while _is_alive(pid) and time.monotonic() - t1 < 10:
            time.sleep(0.1)
        if _is_alive(pid):
            raise NodeError(f"pid {pid} survived SIGKILL")
    say(f"node stopped in {time.monotonic() - t0:.1f}s")


# --------------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------------


def wait_ready(
    paths: Paths,
    port: int,
    pid: int,
    budget: float,
    proc: subprocess.Popen[bytes] | None,
    host: str = ADDRESS,
) -> float:
    """Wait until CQL answers; returns seconds waited. Raises NodeError on death or timeout."""
    t0 = time.monotonic()
    next_report = t0 + PROGRESS_EVERY_S
    while True:
        if answering(paths, port, host):
            return time.monotonic() - t0
        exited = proc.poll() is not None if proc is not None else not _is_alive(pid)
        if exited:
            code = f" with exit status {proc.returncode}" if proc is not None else ""
            paths.pid_file.unlink(missing_ok=True)
            print_tails(paths)
            raise NodeError(f"the node (pid {pid}) exited{code} before CQL answered")
        elapsed = time.monotonic() - t0
        if elapsed >= budget:
            print_tails(paths)
            try:
                stop_pid(paths, pid, budget=30)
            finally:
                paths.pid_file.unlink(missing_ok=True)
            raise NodeError(f"CQL did not answer on {host}:{port} within {budget:.0f}s; node stopped")
        if time.monotonic() >= next_report:
            port_state = "open" if port_open(port, host, timeout=0.5) else "closed"
            last = tail(paths.log_file, 1)
            last_msg = last[0].strip().split(" - ", 1)[-1][:100] if last else "(no log yet)"
            say(f"  waiting for CQL on {host}:{port} ... {elapsed:.0f}s (port {port_state}; log: {last_msg})")
            next_report += PROGRESS_EVERY_S
        time.sleep(0.25)


def cmd_up(args: argparse.Namespace) -> int:
    t_start = time.monotonic()
    paths = Paths()
    port = _env_port("LEDGER_CASSANDRA_PORT", DEFAULT_NATIVE_PORT)
    storage_port = _env_port("LEDGER_CASSANDRA_STORAGE_PORT", DEFAULT_STORAGE_PORT)
    if port == storage_port:
        raise NodeError(f"CQL port and storage port are both {port}")
    heap = os.environ.get("LEDGER_CASSANDRA_HEAP", "").strip() or DEFAULT_HEAP
    if not re.fullmatch(r"\d+[kKmMgG]?", heap):
        raise NodeError(f"LEDGER_CASSANDRA_HEAP={heap!r} is not a JVM size like 1G or 768M")

    pid = our_pid(paths)
    if pid is not None:
        state = _read_state(paths)
        running_port = int(state.get("native_port", port))
        if running_port != port:
            raise NodeError(
                f"our node (pid {pid}) already runs with CQL on port {running_port}, not {port}; "
                f"run `node.py down` first"
            )
        if answering(paths, port):
            say(f"node already running (pid {pid}) and answering CQL on {ADDRESS}:{port}")
            return 0
        say(f"node already running (pid {pid}) but not answering yet; waiting")
        waited = wait_ready(paths, port, pid, args.timeout, proc=None)
        say(f"node (pid {pid}) answering CQL on {ADDRESS}:{port} after {waited:.1f}s more")
        return 0

    for p, what in ((port, "CQL"), (storage_port, "storage")):
        if port_open(p):
            raise NodeError(
                f"something else already listens on {ADDRESS}:{p} (the {what} port) and it is not a node "
                f"started from {paths.run_dir}: {_describe_listener(p)}. Stop it, or pick another port "
                f"with LEDGER_CASSANDRA_PORT / LEDGER_CASSANDRA_STORAGE_PORT."
            )

    java_home = find_java_home()
    ensure_jars(paths, java_home)

    paths.run_dir.mkdir(parents=True, exist_ok=True)
    if args.keep_data:
        say(f"keeping data in {paths.storage_dir}")
    elif paths.storage_dir.exists():
        shutil.rmtree(paths.storage_dir)
    paths.storage_dir.mkdir(parents=True, exist_ok=True)
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    paths.triggers_dir.mkdir(parents=True, exist_ok=True)
    rotate_logs(paths)
    render_conf(paths, port, storage_port)

    cmd = java_command(paths, java_home, heap, unsafe_system=args.unsafe_system, quick_jit=args.quick_jit)
    env = dict(os.environ, JAVA_HOME=str(java_home), MALLOC_ARENA_MAX="4")
    say(f"starting Cassandra {CASSANDRA_VERSION} on {ADDRESS}:{port} (heap {heap}, java {java_home})")
    with paths.out_file.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=paths.run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    paths.pid_file.write_text(f"{proc.pid}\n")
    paths.state_file.write_text(
        json.dumps(
            {
                "pid": proc.pid,
                "address": ADDRESS,
                "native_port": port,
                "storage_port": storage_port,
                "heap": heap,
                "unsafe_system": args.unsafe_system,
                "quick_jit": args.quick_jit,
                "java_home": str(java_home),
                "lib_dir": str(paths.lib_dir),
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "command": cmd,
            },
            indent=1,
        )
        + "\n"
    )
    say(f"pid {proc.pid}; log {paths.log_file}")
    try:
        waited = wait_ready(paths, port, proc.pid, args.timeout, proc)
    except KeyboardInterrupt:
        say("interrupted; stopping the node")
        stop_pid(paths, proc.pid, budget=30)
        paths.pid_file.unlink(missing_ok=True)
        return 130
    say(
        f"ready: CQL answering on {ADDRESS}:{port} (pid {proc.pid}); node start {waited:.1f}s, "
        f"total {time.monotonic() - t_start:.1f}s"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    paths = Paths()
    pid = our_pid(paths)
    if pid is None:
        say("no node running (nothing to stop)")
        return 0
    stop_pid(paths, pid, budget=args.timeout)
    paths.pid_file.unlink(missing_ok=True)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    paths = Paths()
    state = _read_state(paths)
    pid = our_pid(paths)
    if pid is None:
        port = _env_port("LEDGER_CASSANDRA_PORT", DEFAULT_NATIVE_PORT)
        extra = ""
        if port_open(port):
            extra = f"; but something else listens on {ADDRESS}:{port}: {_describe_listener(port)}"
        say(f"not running (run dir {paths.run_dir}){extra}")
        return 1
    port = int(state.get("native_port", _env_port("LEDGER_CASSANDRA_PORT", DEFAULT_NATIVE_PORT)))
    if answering(paths, port):
        say(f"running (pid {pid}), answering CQL on {ADDRESS}:{port}")
        return 0
    say(f"running (pid {pid}) but NOT answering CQL on {ADDRESS}:{port} (starting, or unhealthy: see `logs`)")
    return 1


def cmd_logs(args: argparse.Namespace) -> int:
    paths = Paths()
    path = paths.out_file if args.out else paths.log_file
    if not path.exists():
        say(f"no log at {path}")
        return 1
    sys.stdout.write("".join(tail(path, args.lines)))
    sys.stdout.flush()
    if args.follow:
        try:
            with path.open("r", errors="replace") as f:
                f.seek(0, os.SEEK_END)
                while True:
                    line = f.readline()
                    if line:
                        sys.stdout.write(line)
                        sys.stdout.flush()
                    else:
                        time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="node.py",
        description=f"Run one local Apache Cassandra {CASSANDRA_VERSION} node on {ADDRESS} "
        f"(plain JVM process, jars from Maven Central; no Docker).",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{up,down,status,logs}")

    up = sub.add_parser(
        "up",
        help="start the node (fetching jars on first use) and wait until CQL answers",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument(
        "--keep-data",
        action="store_true",
        help="reuse the previous data dir (default: start from an empty data dir)",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=START_BUDGET_S,
        help=f"seconds to wait for CQL (default {START_BUDGET_S:.0f})",
    )
    up.add_argument(
        "--unsafe-system",
        action="store_true",
        help="skip fsyncs of schema/system tables (-Dcassandra.unsafesystem=true): a kill -9 can then "
        "forget a keyspace; never for durability tests",
    )
    up.add_argument(
        "--quick-jit",
        action="store_true",
        help="compile with the JVM's quick compiler only (C1): about half the CPU for a test node, "
        "lower peak speed; never for benchmarks",
    )
    up.set_defaults(func=cmd_up)

    down = sub.add_parser(
        "down",
        help="stop the node started by `up` (by pid file; exit 0 if none)",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    down.add_argument(
        "--timeout",
        type=float,
        default=STOP_BUDGET_S,
        help=f"seconds to wait after SIGTERM before SIGKILL (default {STOP_BUDGET_S:.0f})",
    )
    down.set_defaults(func=cmd_down)

    status = sub.add_parser(
        "status",
        help="exit 0 if the node runs and answers CQL, 1 otherwise",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.set_defaults(func=cmd_status)

    logs = sub.add_parser(
        "logs",
        help="print the tail of the node's log",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    logs.add_argument(
        "-n", "--lines", type=int, default=TAIL_LINES, help=f"lines to show (default {TAIL_LINES})"
    )
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines (Ctrl-C to stop)")
    logs.add_argument(
        "--out", action="store_true", help="show the JVM stdout/stderr file instead of system.log"
    )
    logs.set_defaults(func=cmd_logs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except NodeError as exc:
        print(f"[cassandra] error: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
