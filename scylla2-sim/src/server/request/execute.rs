//! The EXECUTE fast path: a prepared statement's request read straight from the layout
//! [`super::validate`] has just checked, instead of a second pass through the crate that
//! allocates once per value. Only the common shape is read here: values by position, no
//! per-query keyspace, known consistency codes. Anything else (named values, a keyspace, an
//! unknown code) goes through the crate, which stays the reference: the tests hold the two
//! equal on generated bodies.

use super::{Request, Walker};
use crate::model::{BoundValue, QueryParams};

/// Query flags this path leaves to the crate: values by name, per-query keyspace.
const LEFT_TO_THE_CRATE: u32 = 0x40 | 0x80;

/// A consistency code the crate knows (ANY 0x0000 to LOCAL_ONE 0x000A).
fn consistency(code: i16) -> Option<u16> {
    (0..=0x000A).contains(&code).then_some(code as u16)
}

/// Decodes a validated EXECUTE body whose query flags are `flags`; `None`: the crate decodes
/// it. The ids, bound values and paging state share one copy of the body (one allocation
/// for all of them, none per value); their clones add a reference, never a copy.
pub(super) fn decode(v5: bool, metadata_id: bool, body: &[u8], flags: u32) -> Option<Request> {
    if flags & LEFT_TO_THE_CRATE != 0 {
        return None;
    }
    // The body, copied once (it is a slice of the connection's read buffer) into an
    // allocation with its reference count: the ids and values are slices of the copy, and
    // slicing it allocates nothing more.
    let all = crate::shared_bytes::shared_copy(body);
    let mut w = Walker { b: &all, p: 0 };
    let slice = |w: &Walker<'_>, at: usize| all.slice(at..w.p);
    let at = w.p + 2;
    w.string("statement id").ok()?;
    let id = slice(&w, at);
    let metadata_id = match v5 || metadata_id {
        true => {
            let at = w.p + 2;
            w.string("result metadata id").ok()?;
            Some(slice(&w, at))
        }
        false => None,
    };
    let consistency = consistency(w.short("consistency").ok()?)?;
    let f = w.flags(v5).ok()?;
    let mut values = Vec::new();
    if f & 0x01 != 0 {
        let n = w.count("value count").ok()?;
        // At most one value per 4 bytes of the body: the capacity is bounded by its length.
        values.reserve_exact(n.min(body.len() / 4));
        for _ in 0..n {
            let len = w.int("value").ok()?;
            values.push(match len {
                0.. => {
                    let at = w.p;
                    w.take(len as usize, "value").ok()?;
                    BoundValue::Set(slice(&w, at))
                }
                -1 => BoundValue::Null,
                -2 => BoundValue::Unset,
                _ => return None,
            });
        }
    }
    let page_size = match f & 0x04 {
        0 => None,
        _ => Some(w.int("page size").ok()?),
    };
    let paging_state = match f & 0x08 {
        0 => None,
        _ => match w.int("paging state").ok()? {
            // A negative length is a null paging state, as the crate reads it.
            ..0 => None,
            n => {
                let at = w.p;
                w.take(n as usize, "paging state").ok()?;
                Some(slice(&w, at))
            }
        },
    };
    let serial_consistency = match f & 0x10 {
        0 => None,
        _ => Some(consistency_of(&mut w)?),
    };
    let timestamp = match f & 0x20 {
        0 => None,
        _ => {
            let b = w.take(8, "timestamp").ok()?;
            Some(i64::from_be_bytes(b.try_into().ok()?))
        }
    };
    let now_in_seconds = match f & 0x100 {
        0 => None,
        _ => Some(w.int("now in seconds").ok()?),
    };
    w.done().ok()?;
    Some(Request::Execute {
        id,
        metadata_id,
        params: QueryParams {
            consistency,
            values,
            names: None,
            skip_metadata: flags & 0x02 != 0,
            page_size,
            paging_state,
            serial_consistency,
            timestamp,
            keyspace: None,
            now_in_seconds,
        },
    })
}

fn consistency_of(w: &mut Walker<'_>) -> Option<u16> {
    consistency(w.short("serial consistency").ok()?)
}

#[cfg(test)]
mod tests {
    use super::super::{OP_EXECUTE, Request, Res, decode_with};

    /// A decoded body as text, named values in name order (the crate reads them into a hash
    /// map: their order is not the body's).
    fn canonical(r: Res<Request>) -> String {
        match r {
            Ok(Request::Execute {
                id,
                metadata_id,
                mut params,
            }) => {
                if let Some(names) = params.names.take() {
                    let mut pairs: Vec<_> = names.into_iter().zip(params.values).collect();
                    pairs.sort_by(|a, b| a.0.cmp(&b.0));
                    let (names, values) = pairs.into_iter().unzip();
                    params.names = Some(names);
                    params.values = values;
                }
                format!("{id:?} {metadata_id:?} {params:?}")
            }
            other => format!("{other:?}"),
        }
    }

    /// A small deterministic generator (xorshift64*).
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn bytes(&mut self, out: &mut Vec<u8>, n: usize) {
            out.extend((0..n).map(|_| self.next() as u8));
        }
    }

    /// An EXECUTE body of any shape the protocol allows (and a few it does not: unknown
    /// consistency codes), with the flags it was built with.
    fn body(g: &mut Gen, v5: bool, metadata_id: bool) -> Vec<u8> {
        let mut b = Vec::new();
        let short_bytes = |g: &mut Gen, b: &mut Vec<u8>, max: u64| {
            let n = g.below(max) as usize;
            b.extend_from_slice(&(n as u16).to_be_bytes());
            g.bytes(b, n);
        };
        short_bytes(g, &mut b, 20);
        if v5 || metadata_id {
            short_bytes(g, &mut b, 17);
        }
        let consistency = |g: &mut Gen| -> i16 {
            match g.below(12) {
                11 => [11, -1, 0x7f7f][g.below(3) as usize],
                c => c as i16,
            }
        };
        b.extend_from_slice(&consistency(g).to_be_bytes());
        let mut f = g.below(0x200) as u32;
        // Names and keyspace rarely, so that most bodies take the fast path.
        if g.below(4) != 0 {
            f &= !0xc0;
        }
        if v5 {
            b.extend_from_slice(&f.to_be_bytes());
        } else {
            f &= 0x7f;
            b.push(f as u8);
        }
        if f & 0x01 != 0 {
            let n = g.below(7) as usize;
            b.extend_from_slice(&(n as u16).to_be_bytes());
            for i in 0..n {
                if f & 0x40 != 0 {
                    b.extend_from_slice(&[0, 2, b'v', b'0' + i as u8]);
                }
                let len = g.below(11) as i32 - 2;
                b.extend_from_slice(&len.to_be_bytes());
                g.bytes(&mut b, len.max(0) as usize);
            }
        }
        if f & 0x04 != 0 {
            b.extend_from_slice(&(g.next() as i32).to_be_bytes());
        }
        if f & 0x08 != 0 {
            let len = g.below(12) as i32 - 1;
            b.extend_from_slice(&len.to_be_bytes());
            g.bytes(&mut b, len.max(0) as usize);
        }
        if f & 0x10 != 0 {
            b.extend_from_slice(&consistency(g).to_be_bytes());
        }
        if f & 0x20 != 0 {
            g.bytes(&mut b, 8);
        }
        if f & 0x80 != 0 {
            b.extend_from_slice(&[0, 2, b'k', b's']);
        }
        if f & 0x100 != 0 {
            b.extend_from_slice(&(g.next() as i32).to_be_bytes());
        }
        b
    }

    #[test]
    fn the_fast_path_reads_what_the_crate_reads() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let mut fast = 0;
        let mut cases = 0;
        for _ in 0..20_000 {
            let v5 = g.below(2) == 0;
            let metadata_id = v5 || g.below(2) == 0;
            let mut b = body(&mut g, v5, metadata_id);
            // One body in four damaged: cut short, a byte too many, or a byte changed.
            match g.below(8) {
                0 if !b.is_empty() => b.truncate(g.below(b.len() as u64) as usize),
                1 => b.push(g.next() as u8),
                2 if !b.is_empty() => {
                    let at = g.below(b.len() as u64) as usize;
                    b[at] = g.next() as u8;
                }
                _ => {}
            }
            let with = decode_with(OP_EXECUTE, v5, metadata_id, &b, true);
            let without = decode_with(OP_EXECUTE, v5, metadata_id, &b, false);
            if let Ok(flags) = super::super::validate(OP_EXECUTE, v5, metadata_id, &b) {
                fast += usize::from(super::decode(v5, metadata_id, &b, flags).is_some());
            }
            assert_eq!(
                canonical(with),
                canonical(without),
                "v5 {v5}, metadata id {metadata_id}, body {b:?}"
            );
            cases += 1;
        }
        // Most bodies took the fast path: the comparison is not vacuous.
        assert!(fast > cases / 2, "{fast} of {cases}");
    }
}
