//! Seeded mutation tests: mutated query strings and random bound values never panic the
//! parser or the engine (every outcome is a result or a typed error).

use bytes::Bytes;

use super::*;
use crate::model::{BoundValue, QueryParams};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "SELECT a, writetime(b), ttl(b), count(*) FROM f WHERE k = 1 AND c > 2 AND (c, d) < (3, 'x') ORDER BY c DESC LIMIT 5 ALLOW FILTERING",
    "INSERT INTO f (k, c, d, a, b, l, m, s) VALUES (1, 2, 'x', 3, 4, [1, 2], {'a': 1}, {1.5, 2.5}) IF NOT EXISTS USING TTL 10",
    "UPDATE f USING TIMESTAMP 5 SET l = l + [3], m['k'] = 2, s = s - {1.5}, a = 7 WHERE k = 1 AND c = 2 AND d = 'x' IF a = 3",
    "DELETE l[0], m['a'] FROM f WHERE k IN (1, 2) AND c = 2 AND d = 'x'",
    "BEGIN UNLOGGED BATCH INSERT INTO f (k, c, d) VALUES (1, 1, 'é'); DELETE FROM f WHERE k = 1 APPLY BATCH",
    "CREATE TABLE g (k int, c text, v frozen<map<int, tuple<int, text>>>, PRIMARY KEY ((k), c)) WITH CLUSTERING ORDER BY (c DESC)",
    "SELECT * FROM system_schema.columns WHERE keyspace_name IN ('ks', 'system') AND table_name = 'f'",
    "CREATE KEYSPACE k2 WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2} AND durable_writes = true",
    "SELECT k, token(k) FROM f WHERE token(k) > -100 AND token(k) <= 9000000000 PER PARTITION LIMIT 2",
];

const PIECES: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "$$",
    "?",
    ":n",
    ",",
    ";",
    "=",
    "<",
    ">=",
    "-",
    "0x",
    "1e",
    "é",
    "∞",
    "--",
    "/*",
    "NaN",
    "null",
    "IN",
    "AND",
    "IF",
    "token(",
    "frozen<",
    ">",
    "9999999999999999999999",
    "-0.0",
    "0000-00-00",
    " ",
];

#[test]
fn mutated_queries_never_panic() {
    let mut e = env();
    e.q("CREATE TABLE f (k int, c int, d text, a int, b int, l list<int>, m map<text, int>, s set<double>, PRIMARY KEY (k, c, d))");
    e.q("INSERT INTO f (k, c, d, a, b) VALUES (1, 2, 'x', 3, 4)");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for i in 0..4000 {
        let seed = SEEDS[i % SEEDS.len()];
        let mut q: Vec<char> = seed.chars().collect();
        for _ in 0..1 + rng.below(4) {
            let pos = rng.below(q.len() + 1);
            match rng.below(4) {
                0 if !q.is_empty() => {
                    let end = (pos + rng.below(6)).min(q.len());
                    q.drain(pos.min(end)..end);
                }
                1 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    for (j, c) in piece.chars().enumerate() {
                        q.insert((pos + j).min(q.len()), c);
                    }
                }
                2 => q.truncate(pos),
                _ => {
                    if let Some(c) = q.get_mut(pos) {
                        *c = char::from(b' ' + (rng.below(95) as u8));
                    }
                }
            }
        }
        let text: String = q.into_iter().collect();
        let _ = crate::cql::parse(&text);
        let _ = e.try_q(&text);
    }
}

#[test]
fn random_bound_values_never_panic() {
    let mut e = env();
    e.q("CREATE TYPE ut (a int, b text)");
    e.q("CREATE TABLE r (k int, c timeuuid, v varint, d decimal, du duration, l list<frozen<ut>>, m map<int, text>, t tuple<int, blob>, vf vector<float, 2>, vt vector<text, 2>, PRIMARY KEY (k, c))");
    let stmts = [
        "INSERT INTO r (k, c, v, d, du, l, m, t, vf, vt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "UPDATE r SET m = m + ?, l = ? + l WHERE k = ? AND c = ?",
        "SELECT * FROM r WHERE k IN ? AND c > ? LIMIT ?",
        "DELETE m[?] FROM r WHERE k = ? AND c = ?",
    ];
    let mut rng = Rng(42);
    for i in 0..6000 {
        let p = e
            .engine
            .prepare(stmts[i % stmts.len()], Some("ks"))
            .unwrap();
        let values: Vec<BoundValue> = p
            .info
            .bind_columns
            .iter()
            .map(|_| match rng.below(10) {
                0 => BoundValue::Null,
                1 => BoundValue::Unset,
                _ => {
                    let len = rng.below(24);
                    let mut v: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    if len >= 4 && rng.below(2) == 0 {
                        // A plausible collection/tuple header.
                        v[..4].copy_from_slice(&(rng.below(3) as i32).to_be_bytes());
                    }
                    BoundValue::Set(Bytes::from(v))
                }
            })
            .collect();
        let params = QueryParams {
            values,
            page_size: Some(3),
            ..QueryParams::default()
        };
        let _ = e.engine.execute(&mut e.session, &p, &params, &e.cluster);
    }
}
