//! Cross-check against a real Cassandra 4.0: the captured `SELECT * FROM all_types` response
//! (fixture 025) must hold, for row id 1, exactly the bytes this engine produces for the same
//! DDL and the same literal INSERT (fixture 018): literal encodings of every type, collection
//! element order, UDT/tuple layout and `SELECT *` column order. The frame is parsed here with
//! a minimal reader (only the data file is shared, no code).

use super::*;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scylla2-cql/tests/fixtures/cassandra-v4/"
);

const CREATE_TABLE: &str = "CREATE TABLE all_types (
        id int PRIMARY KEY,
        c_ascii ascii, c_bigint bigint, c_blob blob, c_boolean boolean, c_date date, c_decimal decimal,
        c_double double, c_duration duration, c_float float, c_inet inet, c_inet6 inet, c_int int,
        c_smallint smallint, c_text text, c_time time, c_timestamp timestamp, c_timeuuid timeuuid,
        c_tinyint tinyint, c_uuid uuid, c_varchar varchar, c_varint varint,
        c_list list<int>, c_set set<text>, c_map map<text, bigint>,
        c_list_of_maps list<frozen<map<int, text>>>, c_set_of_lists set<frozen<list<int>>>,
        c_map_of_sets map<text, frozen<set<uuid>>>, c_frozen_list frozen<list<frozen<tuple<int, text>>>>,
        c_map_list_key map<frozen<list<int>>, text>,
        c_tuple tuple<int, text, double>, c_tuple_nested tuple<bigint, frozen<list<text>>, frozen<addr>>,
        c_udt frozen<addr>, c_udt_nf addr, c_list_udt list<frozen<addr>>, c_person frozen<person>)";

const INSERT: &str = "INSERT INTO all_types (id, c_ascii, c_bigint, c_blob, c_boolean, c_date, c_decimal, c_double, c_duration, c_float, c_inet, c_inet6, c_int, c_smallint, c_text, c_time, c_timestamp, c_timeuuid, c_tinyint, c_uuid, c_varchar, c_varint, c_list, c_set, c_map, c_list_of_maps, c_set_of_lists, c_map_of_sets, c_frozen_list, c_map_list_key, c_tuple, c_tuple_nested, c_udt, c_udt_nf, c_list_udt, c_person) VALUES (1, 'hello ascii', 1234567890123, 0xcafebabe, true, '2024-02-29', 123.456, 3.141592653589793, 1y2mo3w4d5h6m7s8ms9us10ns, 1.5, '192.168.1.1', '2001:db8::ff00:42:8329', 42, 1234, 'plain text', '12:34:56.789', '2024-02-29 12:34:56.789+0000', d2177dd0-eaa2-11de-a572-001b779c76e3, 12, 123e4567-e89b-12d3-a456-426614174000, 'varchar value', 12345678901234567890123456789, [1, 2, 3, -4], {'apple', 'banana', 'cherry'}, {'a': 1, 'b': -2}, [{1: 'one', 2: 'two'}, {}], {[1, 2], [3], []}, {'k1': {123e4567-e89b-12d3-a456-426614174000, 00000000-0000-0000-0000-000000000001}, 'k2': {}}, [(1, 'x'), (2, null)], {[1, 2]: 'a', [3]: 'b'}, (7, 'seven', 7.5), (9000000000, ['p', 'q'], {street: 'Main St', zip: 12345, tags: {'home'}, geo: (52.52, 13.405)}), {street: 'Elm', zip: 54321, tags: {'a', 'b'}, geo: (1.0, 2.0)}, {street: 'non-frozen', zip: 1, tags: null, geo: null}, [{street: 'a', zip: 1, tags: {}, geo: (0.0, -0.0)}, {street: 'b', zip: 2}], {name: 'Ann', home: {street: 'x', zip: 2}, phones: ['+1-555-0100', '+44 20 7946 0958']})";

/// One row of raw cells.
type RawRow = Vec<Option<Vec<u8>>>;

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u16(&mut self) -> usize {
        usize::from(u16::from_be_bytes(self.take(2).try_into().unwrap()))
    }
    fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn string(&mut self) -> String {
        let n = self.u16();
        String::from_utf8(self.take(n).to_vec()).unwrap()
    }
    fn option(&mut self) {
        match self.u16() {
            0x0000 => {
                self.string();
            }
            0x0020 | 0x0022 => self.option(),
            0x0021 => {
                self.option();
                self.option();
            }
            0x0030 => {
                self.string();
                self.string();
                for _ in 0..self.u16() {
                    self.string();
                    self.option();
                }
            }
            0x0031 => {
                for _ in 0..self.u16() {
                    self.option();
                }
            }
            _ => {}
        }
    }
}

/// (column names, rows) of a RESULT Rows frame (v4 header, uncompressed).
fn parse_rows(frame: &[u8]) -> (Vec<String>, Vec<RawRow>) {
    assert_eq!(frame[0], 0x84);
    assert_eq!(frame[1], 0);
    let mut r = Reader(&frame[9..]);
    assert_eq!(r.i32(), 2);
    let flags = r.i32();
    let n = r.i32() as usize;
    if flags & 1 != 0 {
        r.string();
        r.string();
    }
    assert_eq!(flags & 2, 0, "no paging state expected");
    let mut names = Vec::new();
    for _ in 0..n {
        if flags & 1 == 0 {
            r.string();
            r.string();
        }
        names.push(r.string());
        r.option();
    }
    let count = r.i32();
    let rows = (0..count)
        .map(|_| {
            (0..n)
                .map(|_| {
                    let len = r.i32();
                    (len >= 0).then(|| r.take(len as usize).to_vec())
                })
                .collect()
        })
        .collect();
    (names, rows)
}

#[test]
fn literal_insert_matches_real_cassandra_bytes() {
    let frame = std::fs::read(format!("{DIR}025-select-all-types.bin")).unwrap();
    let (names, rows) = parse_rows(&frame);
    let expected = rows
        .into_iter()
        .find(|r| r[0].as_deref() == Some(&[0, 0, 0, 1][..]))
        .unwrap();

    let mut e = env();
    e.q("CREATE KEYSPACE corpus_ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    e.q("USE corpus_ks");
    e.q("CREATE TYPE addr (street text, zip int, tags frozen<set<text>>, geo frozen<tuple<double, double>>)");
    e.q("CREATE TYPE person (name text, home frozen<addr>, phones list<text>)");
    e.q(CREATE_TABLE);
    e.q(INSERT);
    let got = e.rows("SELECT * FROM all_types WHERE id = 1");
    let got_names: Vec<String> = got.columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(got_names, names, "SELECT * column order");
    assert_eq!(got.columns[0].keyspace, "corpus_ks");
    for ((name, want), have) in names.iter().zip(&expected).zip(&got.rows[0]) {
        let have = have.as_ref().map(|b| b.to_vec());
        assert_eq!(&have, want, "column {name}");
    }
}
