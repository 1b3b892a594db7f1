#!/usr/bin/python3
"""A real OpenStack tooz peer (ZooKeeper driver) driven by JUnit tests.

Run with the system interpreter (Debian's python3-tooz / python3-kazoo):

    /usr/bin/python3 tooz_peer.py [COMMON] SUBCOMMAND [COMMON] [OPTIONS]

COMMON options (accepted before or after the subcommand):
    --connect HOST:PORT   ZooKeeper server (required)
    --namespace NS        tooz namespace, default "tooz"
    --timeout SECONDS     session timeout (the driver's "timeout" URL option),
                          default 10
    --auth USER:PASS      digest credentials (zookeeper://USER:PASS@HOST:PORT)

The coordinator URL is zookeeper://[USER:PASS@]HOST:PORT?timeout=T&namespace=NS.
Member ids, group names and lock names are ASCII and are passed to tooz
as bytes, as Ceilometer does, so that Partitioner.belongs_to_self() works.

Output: every stdout line is one JSON object, flushed at once.  Errors and
diagnostics go to stderr.  "ns"/"start"/"end" are time.monotonic_ns()
(CLOCK_MONOTONIC, the clock behind Java's System.nanoTime() on Linux).

Subcommands:

member --group G --id ID --weight W --partitions P
    join_partitioned_group(G, weight=W, partitions=P), print
    {"event":"joined","id":ID}, then answer stdin commands, one JSON line each:
      poll          run_watchers(); {"event":"members","members":{ID: W, ...}}
                    (the ids and weights in the Partitioner's hash ring)
      lookup R PATH run_watchers(); for each non-empty line KEY of the UTF-8
                    file PATH: {"event":"lookup",
                    "owners":{KEY:[sorted members_for_object(KEY, replicas=R)]},
                    "belongs":[KEY for which belongs_to_self(KEY, replicas=R)]}
      leave         leave_partitioned_group(); {"event":"left"}; exit 0
    If run_watchers() raises, poll/lookup print
    {"event":"error","error":"<ExceptionClass>: <message>"} instead.
    EOF on stdin: stop and exit 0.

lock-stress --name NAME --id ID --count N --hold-ms H [--pause-ms Q]
    {"event":"ready"}; N times: acquire (blocking), hold H ms, release, print
    {"event":"hold","id":ID,"start":NS,"end":NS}, sleep Q ms;
    then {"event":"done","count":N}.

lock-hold --name NAME --id ID [--blocking-seconds S]
    acquire(blocking=False), or acquire(blocking=S) (a kazoo LockTimeout
    counts as not acquired); {"event":"acquired","ok":true|false}; wait for a
    stdin line "release" or EOF; if held: release, {"event":"released"}.

elect --group G --id ID [--poll-ms 100]
    watch_elected_as_leader(G); {"event":"ready"}; run_watchers() every
    poll-ms; on election {"event":"elected","id":ID,"ns":NS}.  stdin:
      stand-down    stand_down_group_leader(G); {"event":"stood-down"}
      leader?       {"event":"leader","leader":ID-or-null}
    EOF: stop and exit 0.

get-leader --group G
    {"event":"leader","leader":ID-or-null}; exit 0.
"""

import argparse
import json
import queue
import signal
import sys
import threading
import time
import uuid

from kazoo.exceptions import LockTimeout
from tooz import coordination


def emit(**event):
    """Print one JSON object as one stdout line and flush it."""
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def describe(exc):
    return "%s: %s" % (type(exc).__name__, exc)


def decode(member_id):
    """tooz hands member ids back as bytes; JSON wants str (None stays)."""
    if isinstance(member_id, bytes):
        return member_id.decode("utf-8")
    return member_id


def stdin_lines():
    """Yield stripped stdin lines until EOF (readline: no read-ahead)."""
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        yield line.strip()


def start_coordinator(args, member_id):
    # --auth USER:PASS: tooz then authenticates with digest and creates every
    # node with the single ACL digest:USER:base64(sha1(USER:PASS)).
    auth = args.auth + "@" if args.auth else ""
    url = "zookeeper://%s%s?timeout=%d&namespace=%s" % (
        auth, args.connect, args.timeout, args.namespace)
    coord = coordination.get_coordinator(url, member_id.encode("ascii"))
    # start_heart=True runs tooz's Heart thread, which pings ZooKeeper about
    # every timeout/2 s, so the session stays alive while we are idle.
    coord.start(start_heart=True)
    return coord


# --------------------------------------------------------------------- member

def ring_members(partitioner):
    # tooz 3.1: Partitioner.ring is a tooz.hashring.HashRing whose `nodes`
    # attribute is a dict {member_id (bytes): weight}.
    return {decode(m): w for m, w in partitioner.ring.nodes.items()}


def cmd_member(args, coord):
    group = args.group.encode("ascii")
    part = coord.join_partitioned_group(
        group, weight=args.weight, partitions=args.partitions)
    emit(event="joined", id=args.id)
    for line in stdin_lines():
        words = line.split(None, 2)
        if not words:
            continue
        if words[0] == "leave":
            coord.leave_partitioned_group(part)
            emit(event="left")
            return
        if words[0] not in ("poll", "lookup"):
            print("unknown command: %r" % line, file=sys.stderr, flush=True)
            continue
        try:
            coord.run_watchers()
        except Exception as exc:  # e.g. a child tooz cannot decode
            emit(event="error", error=describe(exc))
            continue
        if words[0] == "poll":
            emit(event="members", members=ring_members(part))
            continue
        replicas, path = int(words[1]), words[2]
        with open(path, encoding="utf-8") as f:
            keys = [k.strip("\r\n") for k in f]
        owners, belongs = {}, []
        for key in keys:
            if not key:
                continue
            found = part.members_for_object(key, replicas=replicas)
            owners[key] = sorted(decode(m) for m in found)
            if part.belongs_to_self(key, replicas=replicas):
                belongs.append(key)
        emit(event="lookup", owners=owners, belongs=belongs)


# ---------------------------------------------------------------------- locks

def cmd_lock_stress(args, coord):
    lock = coord.get_lock(args.name.encode("ascii"))
    emit(event="ready")
    for _ in range(args.count):
        lock.acquire(blocking=True)
        start = time.monotonic_ns()
        time.sleep(args.hold_ms / 1000.0)
        end = time.monotonic_ns()
        lock.release()
        emit(event="hold", id=args.id, start=start, end=end)
        if args.pause_ms:
            time.sleep(args.pause_ms / 1000.0)
    emit(event="done", count=args.count)


def cmd_lock_hold(args, coord):
    lock = coord.get_lock(args.name.encode("ascii"))
    if args.blocking_seconds is None:
        ok = lock.acquire(blocking=False)
    else:
        try:
            ok = lock.acquire(blocking=args.blocking_seconds)
        except LockTimeout:  # kazoo 2.8 raises instead of returning False
            ok = False
    emit(event="acquired", ok=bool(ok))
    for line in stdin_lines():
        if line == "release":
            break
    if ok:
        lock.release()
        emit(event="released")


# ------------------------------------------------------------------- election

def cmd_elect(args, coord):
    group = args.group.encode("ascii")
    # Coordinator calls happen on this thread only; the stdin reader thread
    # just queues commands (None = EOF).
    commands = queue.Queue()

    def read_stdin():
        for line in stdin_lines():
            if line:
                commands.put(line)
        commands.put(None)

    def on_elected(event):
        emit(event="elected", id=args.id, ns=time.monotonic_ns())

    coord.watch_elected_as_leader(group, on_elected)
    emit(event="ready")
    threading.Thread(target=read_stdin, daemon=True).start()
    poll = args.poll_ms / 1000.0
    next_run = 0.0
    while True:
        now = time.monotonic()
        if now >= next_run:
            try:
                coord.run_watchers()
            except Exception as exc:
                print("run_watchers: " + describe(exc), file=sys.stderr,
                      flush=True)
            next_run = time.monotonic() + poll
        try:
            line = commands.get(timeout=max(0.0, next_run - time.monotonic()))
        except queue.Empty:
            continue
        if line is None:
            return
        if line == "stand-down":
            coord.stand_down_group_leader(group)
            emit(event="stood-down")
        elif line == "leader?":
            emit(event="leader", leader=decode(coord.get_leader(group).get()))
        else:
            print("unknown command: %r" % line, file=sys.stderr, flush=True)


def cmd_get_leader(args, coord):
    leader = coord.get_leader(args.group.encode("ascii")).get()
    emit(event="leader", leader=decode(leader))


# ----------------------------------------------------------------------- main

COMMANDS = {
    "member": cmd_member,
    "lock-stress": cmd_lock_stress,
    "lock-hold": cmd_lock_hold,
    "elect": cmd_elect,
    "get-leader": cmd_get_leader,
}
DEFAULTS = {"connect": None, "namespace": "tooz", "timeout": 10, "auth": None}


def parse_args(argv):
    # Common options may come before or after the subcommand.  Both places
    # use SUPPRESS so that one cannot overwrite the other with a default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--connect", default=argparse.SUPPRESS)
    common.add_argument("--namespace", default=argparse.SUPPRESS)
    common.add_argument("--auth", default=argparse.SUPPRESS)
    common.add_argument("--timeout", default=argparse.SUPPRESS,
                        type=lambda s: int(float(s)))
    parser = argparse.ArgumentParser(parents=[common], description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("member", parents=[common])
    p.add_argument("--group", required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--weight", type=int, default=1)
    p.add_argument("--partitions", type=int, default=32)

    p = sub.add_parser("lock-stress", parents=[common])
    p.add_argument("--name", required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--hold-ms", type=float, required=True)
    p.add_argument("--pause-ms", type=float, default=0)

    p = sub.add_parser("lock-hold", parents=[common])
    p.add_argument("--name", required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--blocking-seconds", type=float, default=None)

    p = sub.add_parser("elect", parents=[common])
    p.add_argument("--group", required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--poll-ms", type=float, default=100)

    p = sub.add_parser("get-leader", parents=[common])
    p.add_argument("--group", required=True)

    args = parser.parse_args(argv)
    for key, value in DEFAULTS.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    if not args.connect:
        parser.error("--connect HOST:PORT is required")
    return args


def main(argv=None):
    args = parse_args(argv)
    # SIGTERM (Process.destroy()) closes the session cleanly via `finally`,
    # so our ephemeral nodes vanish at once; SIGKILL simulates a crash.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    member_id = getattr(args, "id", None) or "get-leader-" + uuid.uuid4().hex
    coord = start_coordinator(args, member_id)
    try:
        COMMANDS[args.command](args, coord)
    finally:
        try:
            coord.stop()
        except Exception as exc:
            print("stop: " + describe(exc), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
