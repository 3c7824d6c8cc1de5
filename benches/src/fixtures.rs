//! Shared bench inputs: a small deterministic generator and hand-built RESULT bodies laid out
//! as in the native protocol (v4 §4.2.5.2), so every decoder reads exactly the same bytes.

/// Keyspace the fixtures name.
pub const KEYSPACE: &str = "bench";
/// Table the fixtures name.
pub const TABLE: &str = "t";
/// Column names of the 5-column table: `k int, txt text, big bigint, id uuid, li list<int>`.
pub const COLUMNS: [&str; 5] = ["k", "txt", "big", "id", "li"];

/// A xorshift64* generator: deterministic, fast, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `lo..hi` (`hi > lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }
}

/// An ASCII text of `len` letters drawn from `rng`.
pub fn text(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b'a' + (rng.next_u64() % 26) as u8))
        .collect()
}

/// One row of the 5-column table, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// `k int`.
    pub k: i32,
    /// `txt text`, 20 to 200 characters.
    pub txt: String,
    /// `big bigint`.
    pub big: i64,
    /// `id uuid`, as 16 bytes.
    pub id: [u8; 16],
    /// `li list<int>`, 0 to 7 elements.
    pub li: Vec<i32>,
}

/// `n` deterministic rows.
pub fn rows(n: usize, seed: u64) -> Vec<BenchRow> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let len = rng.range(20, 201) as usize;
            let txt = text(&mut rng, len);
            let big = rng.next_u64() as i64;
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
            id[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
            let n_li = rng.range(0, 8) as usize;
            let li = (0..n_li).map(|_| rng.next_u64() as i32).collect();
            BenchRow {
                k: i as i32,
                txt,
                big,
                id,
                li,
            }
        })
        .collect()
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_cell(out: &mut Vec<u8>, content: &[u8]) {
    out.extend_from_slice(&(content.len() as i32).to_be_bytes());
    out.extend_from_slice(content);
}

/// Option ids of the column types (v4 §4.2.5.2).
const INT: u16 = 0x0009;
const VARCHAR: u16 = 0x000D;
const BIGINT: u16 = 0x0002;
const UUID: u16 = 0x000C;
const LIST: u16 = 0x0020;

/// A whole RESULT message body (`<kind=Rows><metadata><rows_count><rows>`) carrying `rows`
/// with full metadata (global table spec), as a server answers an unprepared SELECT.
pub fn rows_result_body(rows: &[BenchRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + rows.len() * 180);
    out.extend_from_slice(&2i32.to_be_bytes()); // kind: Rows
    out.extend_from_slice(&1i32.to_be_bytes()); // flags: Global_tables_spec
    out.extend_from_slice(&(COLUMNS.len() as i32).to_be_bytes());
    put_string(&mut out, KEYSPACE);
    put_string(&mut out, TABLE);
    for (name, typ) in COLUMNS.iter().zip([INT, VARCHAR, BIGINT, UUID, LIST]) {
        put_string(&mut out, name);
        out.extend_from_slice(&typ.to_be_bytes());
        if typ == LIST {
            out.extend_from_slice(&INT.to_be_bytes());
        }
    }
    out.extend_from_slice(&(rows.len() as i32).to_be_bytes());
    let mut list = Vec::new();
    for r in rows {
        put_cell(&mut out, &r.k.to_be_bytes());
        put_cell(&mut out, r.txt.as_bytes());
        put_cell(&mut out, &r.big.to_be_bytes());
        put_cell(&mut out, &r.id);
        list.clear();
        list.extend_from_slice(&(r.li.len() as i32).to_be_bytes());
        for v in &r.li {
            put_cell(&mut list, &v.to_be_bytes());
        }
        put_cell(&mut out, &list);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_deterministic_and_in_range() {
        let a = rows(100, 7);
        assert_eq!(a, rows(100, 7));
        assert!(
            a.iter()
                .all(|r| (20..=200).contains(&r.txt.len()) && r.li.len() < 8)
        );
        assert_eq!(a[42].k, 42);
    }

    #[test]
    fn result_body_layout() {
        let r = rows(2, 1);
        let body = rows_result_body(&r);
        // kind, flags, column count
        assert_eq!(&body[..12], &[0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 5]);
        // keyspace string follows
        assert_eq!(&body[12..19], b"\x00\x05bench");
        // first cell of the first row: [int] length 4 then k = 0
        let header = 12 + 7 + 3 + (3 + 2) + (5 + 2) + (5 + 2) + (4 + 2) + (4 + 2 + 2);
        assert_eq!(&body[header..header + 4], &2i32.to_be_bytes());
        assert_eq!(&body[header + 4..header + 12], &[0, 0, 0, 4, 0, 0, 0, 0]);
    }
}
