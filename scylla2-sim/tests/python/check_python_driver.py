"""Drives the official Python driver (cassandra-driver) against scylla2-sim clusters.

Usage: check_python_driver.py CONFIG_JSON
CONFIG_JSON is a list of {"name", "hosts", "port", "protocol" (int or null = negotiate),
"compression" (null, "lz4" or "snappy"), optional "auth": [user, password], optional "scylla":
true for a ScyllaDB-mode cluster}. Every config is checked in turn; the first failure
prints a traceback and exits 1. Prints "N passed, 0 failed" at the end.
"""

import json
import sys
import time
import traceback
import uuid

from cassandra import ProtocolVersion
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT, NoHostAvailable
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, SimpleStatement


def make_cluster(cfg):
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc="datacenter1")),
        request_timeout=10,
    )
    kwargs = dict(
        contact_points=cfg["hosts"],
        port=cfg["port"],
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=5,
        control_connection_timeout=5,
        compression=cfg["compression"] if cfg["compression"] else False,
    )
    if cfg["protocol"] is not None:
        kwargs["protocol_version"] = cfg["protocol"]
    if cfg.get("auth"):
        kwargs["auth_provider"] = PlainTextAuthProvider(*cfg["auth"])
    return Cluster(**kwargs)


def check_bad_password(cfg):
    bad = dict(cfg, auth=[cfg["auth"][0], "wrong password"])
    cluster = make_cluster(bad)
    try:
        cluster.connect()
        raise AssertionError("a wrong password must be refused")
    except NoHostAvailable as e:
        assert "AuthenticationFailed" in repr(e) or "incorrect" in repr(e), repr(e)
    finally:
        cluster.shutdown()


def check(cfg):
    if cfg.get("auth"):
        check_bad_password(cfg)
    cluster = make_cluster(cfg)
    session = cluster.connect()
    try:
        expect_version = cfg["protocol"] or cfg.get("negotiated")
        if expect_version:
            assert cluster.protocol_version == expect_version, (
                "protocol", cluster.protocol_version, expect_version)
        # The negotiated compression is really in use (v5: lz4 segments).
        conn = cluster.control_connection._connection
        assert conn._compression_type == cfg["compression"], (
            "compression", conn._compression_type, cfg["compression"])
        if cluster.protocol_version >= 5:
            assert bool(conn._segment_codec.compression) == (cfg["compression"] == "lz4")
        hosts = cluster.metadata.all_hosts()
        assert len(hosts) == len(cfg["hosts"]), ("hosts", hosts)

        ks = "py_" + uuid.uuid4().hex[:8]
        session.execute(
            "CREATE KEYSPACE %s WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 1}" % ks)
        session.set_keyspace(ks)
        session.execute("CREATE TYPE address (street text, zip int)")
        session.execute(
            "CREATE TABLE users (id int, seq int, name text, addr frozen<address>, "
            "PRIMARY KEY (id, seq))")
        session.execute("CREATE TABLE counters (id int PRIMARY KEY, n counter)")
        session.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int)")

        # Prepared insert and select, token aware.
        ins = session.prepare("INSERT INTO users (id, seq, name, addr) VALUES (?, ?, ?, ?)")
        assert ins.routing_key_indexes == [0], ins.routing_key_indexes
        Address = None
        try:
            from collections import namedtuple
            Address = namedtuple("address", ["street", "zip"])
            cluster.register_user_type(ks, "address", Address)
        except Exception:  # noqa: BLE001 - optional mapping
            Address = None
        for i in range(20):
            for s in range(5):
                addr = Address("street %d" % i, 1000 + i) if Address else None
                session.execute(ins, (i, s, "user %d/%d" % (i, s), addr))
        sel = session.prepare("SELECT name, addr FROM users WHERE id = ? AND seq = ?")
        row = session.execute(sel, (7, 3)).one()
        assert row.name == "user 7/3", row
        if Address:
            assert row.addr.street == "street 7" and row.addr.zip == 1007, row.addr

        # Paging across partitions with a small fetch size.
        stmt = SimpleStatement("SELECT id, seq FROM users", fetch_size=7)
        result = session.execute(stmt)
        assert result.has_more_pages, "expected several pages"
        rows = list(result)
        assert len(rows) == 100, len(rows)
        assert len(set((r.id, r.seq) for r in rows)) == 100

        # Batch.
        batch = BatchStatement()
        for s in range(3):
            batch.add(ins, (100, s, "batched %d" % s, None))
        batch.add(SimpleStatement("INSERT INTO users (id, seq, name) VALUES (%s, %s, %s)"),
                  (100, 9, "simple in batch"))
        session.execute(batch)
        got = session.execute("SELECT count(*) FROM users WHERE id = 100").one()[0]
        assert got == 4, got

        # Server warnings reach the driver: Cassandra warns about an aggregate without a
        # partition key (SelectStatement.execute); ScyllaDB sends no such warning.
        rs = session.execute("SELECT count(*) FROM users")
        want = [] if cfg.get("scylla") else ["Aggregation query used without partition key"]
        assert (rs.response_future.warnings or []) == want, rs.response_future.warnings

        # duration decodes on every version (Cassandra v4 announces it as a CUSTOM type).
        session.execute("CREATE TABLE durations (k int PRIMARY KEY, d duration)")
        session.execute("INSERT INTO durations (k, d) VALUES (1, 1h2m)")
        d = session.execute("SELECT d FROM durations WHERE k = 1").one().d
        assert (d.months, d.days, d.nanoseconds) == (0, 0, 3720 * 10**9), d

        # LWT applied and not applied.
        lwt = session.prepare("INSERT INTO accounts (id, balance) VALUES (?, ?) IF NOT EXISTS")
        r = session.execute(lwt, (1, 10))
        assert r.was_applied, "first LWT must apply"
        r = session.execute(lwt, (1, 20))
        assert not r.was_applied, "second LWT must not apply"
        r = session.execute("UPDATE accounts SET balance = 30 WHERE id = 1 IF balance = 10")
        assert r.was_applied
        assert session.execute("SELECT balance FROM accounts WHERE id = 1").one().balance == 30

        # A value larger than a v5 segment (128 KiB) both ways.
        session.execute("CREATE TABLE blobs (k int PRIMARY KEY, b blob)")
        big = bytes(range(256)) * 1200
        session.execute(session.prepare("INSERT INTO blobs (k, b) VALUES (?, ?)"), (1, big))
        assert session.execute("SELECT b FROM blobs WHERE k = 1").one().b == big

        # A prepared SELECT * follows ALTER TABLE (v5: METADATA_CHANGED with a new id).
        session.execute("CREATE TABLE meta_t (k int PRIMARY KEY, a int)")
        session.execute("INSERT INTO meta_t (k, a) VALUES (1, 2)")
        star = session.prepare("SELECT * FROM meta_t WHERE k = ?")
        assert session.execute(star, (1,)).one()._fields == ("k", "a")
        session.execute("ALTER TABLE meta_t ADD extra int")
        row = session.execute(star, (1,)).one()
        assert row._fields == ("k", "a", "extra"), row
        assert session.execute(star, (1,)).one()._fields == ("k", "a", "extra")

        # Counter.
        inc = session.prepare("UPDATE counters SET n = n + ? WHERE id = ?")
        for _ in range(3):
            session.execute(inc, (5, 1))
        assert session.execute("SELECT n FROM counters WHERE id = 1").one().n == 15

        # TTL: 3 seconds, so that the first read lands inside it on a machine busy with other
        # tests (a 1-second TTL was once read back already expired in CI).
        session.execute("INSERT INTO accounts (id, balance) VALUES (2, 1) USING TTL 3")
        assert session.execute("SELECT balance FROM accounts WHERE id = 2").one() is not None
        deadline = time.time() + 10
        while session.execute("SELECT balance FROM accounts WHERE id = 2").one() is not None:
            assert time.time() < deadline, "TTL did not expire"
            time.sleep(0.2)

        # Syntax error surfaces as SyntaxException.
        try:
            session.execute("SELEC nonsense FROM")
            raise AssertionError("syntax error expected")
        except SyntaxException:
            pass

        # A schema change made through another client arrives as an event.
        other = make_cluster(cfg)
        other_session = other.connect()
        try:
            other_session.execute("CREATE TABLE %s.from_other (k int PRIMARY KEY)" % ks)
        finally:
            other.shutdown()
        deadline = time.time() + 10
        while "from_other" not in cluster.metadata.keyspaces[ks].tables:
            assert time.time() < deadline, "schema change event not received"
            time.sleep(0.1)

        session.execute("DROP KEYSPACE %s" % ks)
    finally:
        cluster.shutdown()


def main():
    configs = json.loads(sys.argv[1])
    passed = 0
    for cfg in configs:
        started = time.time()
        try:
            check(cfg)
        except Exception:  # noqa: BLE001 - report and fail
            print("FAILED %s" % cfg["name"])
            traceback.print_exc()
            print("%d passed, 1 failed" % passed)
            sys.exit(1)
        passed += 1
        print("ok %s (%.1fs)" % (cfg["name"], time.time() - started), flush=True)
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    _ = ProtocolVersion
    main()
