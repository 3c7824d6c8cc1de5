//! Request bodies: a validating pre-parser, then decoding through `cassandra-protocol` (or,
//! for EXECUTE of the common shape, straight from the validated layout: [`execute`]).
//!
//! The crate's decoders index slices with lengths read from the wire and preallocate from
//! counts read from the wire, so a negative length or count would panic or allocate
//! gigabytes. [`validate`] walks the body first with every length and count checked against
//! the bytes actually there; only a body that passes is handed to the crate.

use std::collections::HashMap;

use bytes::Bytes;
use cassandra_protocol::frame::message_batch::{BatchQuerySubj, BatchType};
use cassandra_protocol::frame::message_request::RequestBody;
use cassandra_protocol::frame::{Opcode, Version};
use cassandra_protocol::query::QueryValues;
use cassandra_protocol::types::value::Value;

use crate::model::{BoundValue, QueryParams};

mod execute;

/// A malformed request body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The body ended early.
    #[error("not enough bytes to read {what}")]
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// A length or count outside its range.
    #[error("invalid {what}: {value}")]
    Invalid {
        /// What was read.
        what: &'static str,
        /// The value.
        value: i64,
    },
    /// Bytes left after the message.
    #[error("{0} unexpected bytes after the message body")]
    Trailing(usize),
    /// The crate rejected the (structurally valid) body.
    #[error("{0}")]
    Decode(String),
    /// Not a request opcode.
    #[error("unknown or non-request opcode {0:#04x}")]
    Opcode(u8),
}

type Res<T> = Result<T, RequestError>;

/// A decoded request.
#[derive(Debug)]
pub(crate) enum Request {
    Startup(HashMap<String, String>),
    Options,
    Query {
        query: String,
        params: QueryParams,
    },
    Prepare {
        query: String,
        keyspace: Option<String>,
    },
    Execute {
        id: Bytes,
        metadata_id: Option<Bytes>,
        params: QueryParams,
    },
    Batch {
        kind: BatchType,
        items: Vec<BatchItem>,
        params: QueryParams,
    },
    Register(Vec<String>),
    AuthResponse(Option<Vec<u8>>),
}

/// One statement of a BATCH.
#[derive(Debug)]
pub(crate) enum BatchItem {
    Query(String, Vec<BoundValue>),
    Prepared(Bytes, Vec<BoundValue>),
}

/// Request opcodes.
pub(crate) const OP_STARTUP: u8 = 0x01;
pub(crate) const OP_OPTIONS: u8 = 0x05;
pub(crate) const OP_QUERY: u8 = 0x07;
pub(crate) const OP_PREPARE: u8 = 0x09;
pub(crate) const OP_EXECUTE: u8 = 0x0A;
pub(crate) const OP_REGISTER: u8 = 0x0B;
pub(crate) const OP_BATCH: u8 = 0x0D;
pub(crate) const OP_AUTH_RESPONSE: u8 = 0x0F;

struct Walker<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Walker<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Res<&'a [u8]> {
        let end = self.p.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or(RequestError::Truncated { what })?;
        let s = &self.b[self.p..end];
        self.p = end;
        Ok(s)
    }
    fn byte(&mut self, what: &'static str) -> Res<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn short(&mut self, what: &'static str) -> Res<i16> {
        let s = self.take(2, what)?;
        Ok(i16::from_be_bytes([s[0], s[1]]))
    }
    fn int(&mut self, what: &'static str) -> Res<i32> {
        let s = self.take(4, what)?;
        Ok(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn count(&mut self, what: &'static str) -> Res<usize> {
        let n = self.short(what)?;
        if n < 0 {
            return Err(RequestError::Invalid {
                what,
                value: n.into(),
            });
        }
        Ok(n as usize)
    }
    fn string(&mut self, what: &'static str) -> Res<&'a [u8]> {
        let n = self.count(what)?;
        self.take(n, what)
    }
    fn long_string(&mut self, what: &'static str) -> Res<()> {
        let n = self.int(what)?;
        if n < 0 {
            return Err(RequestError::Invalid {
                what,
                value: n.into(),
            });
        }
        self.take(n as usize, what).map(drop)
    }
    /// `[bytes]`: any negative length means null.
    fn bytes(&mut self, what: &'static str) -> Res<()> {
        let n = self.int(what)?;
        if n > 0 {
            self.take(n as usize, what)?;
        }
        Ok(())
    }
    /// `[value]`: -1 null, -2 unset, other negatives invalid.
    fn value(&mut self) -> Res<()> {
        let n = self.int("value")?;
        match n {
            0.. => self.take(n as usize, "value").map(drop),
            -1 | -2 => Ok(()),
            _ => Err(RequestError::Invalid {
                what: "value length",
                value: n.into(),
            }),
        }
    }
    fn short_bytes(&mut self, what: &'static str) -> Res<()> {
        let n = self.count(what)?;
        self.take(n, what).map(drop)
    }
    fn string_map(&mut self) -> Res<()> {
        for _ in 0..self.count("string map size")? {
            self.string("map key")?;
            self.string("map value")?;
        }
        Ok(())
    }
    fn bytes_map(&mut self) -> Res<()> {
        for _ in 0..self.count("bytes map size")? {
            self.string("map key")?;
            self.bytes("map value")?;
        }
        Ok(())
    }
    fn flags(&mut self, v5: bool) -> Res<u32> {
        let (f, known) = if v5 {
            (self.int("flags")? as u32, 0x1ffu32)
        } else {
            (u32::from(self.byte("flags")?), 0x7fu32)
        };
        if f & !known != 0 {
            return Err(RequestError::Invalid {
                what: "query flags",
                value: f.into(),
            });
        }
        Ok(f)
    }
    /// `<consistency><flags>...` of QUERY and EXECUTE; returns the flags.
    fn query_params(&mut self, v5: bool) -> Res<u32> {
        self.short("consistency")?;
        let f = self.flags(v5)?;
        if f & 0x01 != 0 {
            for _ in 0..self.count("value count")? {
                if f & 0x40 != 0 {
                    self.string("value name")?;
                }
                self.value()?;
            }
        }
        if f & 0x04 != 0 {
            self.int("page size")?;
        }
        if f & 0x08 != 0 {
            self.bytes("paging state")?;
        }
        self.tail_params(f)?;
        Ok(f)
    }
    fn tail_params(&mut self, f: u32) -> Res<()> {
        if f & 0x10 != 0 {
            self.short("serial consistency")?;
        }
        if f & 0x20 != 0 {
            self.take(8, "timestamp")?;
        }
        if f & 0x80 != 0 {
            self.string("keyspace")?;
        }
        if f & 0x100 != 0 {
            self.int("now in seconds")?;
        }
        Ok(())
    }
    fn done(&self) -> Res<()> {
        match self.b.len() - self.p {
            0 => Ok(()),
            n => Err(RequestError::Trailing(n)),
        }
    }
}

/// Skips a custom payload (`[bytes map]`) at the start of `body`; returns the bytes consumed.
pub(crate) fn skip_custom_payload(body: &[u8]) -> Res<usize> {
    let mut w = Walker { b: body, p: 0 };
    w.bytes_map()?;
    Ok(w.p)
}

/// Checks the structure of a request body; returns the query flags of QUERY / EXECUTE.
/// `metadata_id`: EXECUTE carries a result metadata id (v5, or v4 with Scylla's
/// SCYLLA_USE_METADATA_ID extension).
pub(crate) fn validate(opcode: u8, v5: bool, metadata_id: bool, body: &[u8]) -> Res<u32> {
    let mut w = Walker { b: body, p: 0 };
    let mut flags = 0;
    match opcode {
        OP_STARTUP => w.string_map()?,
        OP_OPTIONS => {}
        OP_QUERY => {
            w.long_string("query")?;
            flags = w.query_params(v5)?;
        }
        OP_PREPARE => {
            w.long_string("query")?;
            if v5 {
                let f = w.int("prepare flags")?;
                if f & !1 != 0 {
                    return Err(RequestError::Invalid {
                        what: "prepare flags",
                        value: f.into(),
                    });
                }
                if f & 1 != 0 {
                    w.string("keyspace")?;
                }
            }
        }
        OP_EXECUTE => {
            w.short_bytes("statement id")?;
            if v5 || metadata_id {
                w.short_bytes("result metadata id")?;
            }
            flags = w.query_params(v5)?;
        }
        OP_REGISTER => {
            for _ in 0..w.count("event count")? {
                w.string("event type")?;
            }
        }
        OP_BATCH => {
            let kind = w.byte("batch type")?;
            if kind > 2 {
                return Err(RequestError::Invalid {
                    what: "batch type",
                    value: kind.into(),
                });
            }
            for _ in 0..w.count("statement count")? {
                match w.byte("statement kind")? {
                    0 => w.long_string("query")?,
                    1 => w.short_bytes("statement id")?,
                    k => {
                        return Err(RequestError::Invalid {
                            what: "batch statement kind",
                            value: k.into(),
                        });
                    }
                }
                for _ in 0..w.count("value count")? {
                    w.value()?;
                }
            }
            w.short("consistency")?;
            let f = w.flags(v5)?;
            // Only serial consistency, timestamp, keyspace and now_in_seconds apply.
            if f & 0x4f != 0 {
                return Err(RequestError::Invalid {
                    what: "batch flags",
                    value: f.into(),
                });
            }
            w.tail_params(f)?;
        }
        OP_AUTH_RESPONSE => w.bytes("token")?,
        other => return Err(RequestError::Opcode(other)),
    }
    w.done()?;
    Ok(flags)
}

fn bound(v: Value) -> BoundValue {
    match v {
        Value::Some(b) => BoundValue::Set(Bytes::from(b)),
        Value::Null => BoundValue::Null,
        Value::NotSet => BoundValue::Unset,
    }
}

fn params(p: cassandra_protocol::query::QueryParams, flags: u32) -> QueryParams {
    let (values, names) = match p.values {
        None => (Vec::new(), None),
        Some(QueryValues::SimpleValues(v)) => (v.into_iter().map(bound).collect(), None),
        Some(QueryValues::NamedValues(m)) => {
            let (n, v): (Vec<String>, Vec<BoundValue>) =
                m.into_iter().map(|(k, v)| (k, bound(v))).unzip();
            (v, Some(n))
        }
    };
    QueryParams {
        consistency: i16::from(p.consistency) as u16,
        values,
        names,
        skip_metadata: flags & 0x02 != 0,
        page_size: p.page_size,
        paging_state: p.paging_state.and_then(|s| s.into_bytes()).map(Bytes::from),
        serial_consistency: p.serial_consistency.map(|c| i16::from(c) as u16),
        timestamp: p.timestamp,
        keyspace: p.keyspace,
        now_in_seconds: p.now_in_seconds,
    }
}

fn opcode(op: u8) -> Res<Opcode> {
    Ok(match op {
        OP_STARTUP => Opcode::Startup,
        OP_OPTIONS => Opcode::Options,
        OP_QUERY => Opcode::Query,
        OP_PREPARE => Opcode::Prepare,
        OP_EXECUTE => Opcode::Execute,
        OP_REGISTER => Opcode::Register,
        OP_BATCH => Opcode::Batch,
        OP_AUTH_RESPONSE => Opcode::AuthResponse,
        other => return Err(RequestError::Opcode(other)),
    })
}

/// Validates then decodes a request body (custom payload already removed).
pub(crate) fn decode(op: u8, v5: bool, metadata_id: bool, body: &[u8]) -> Res<Request> {
    decode_with(op, v5, metadata_id, body, true)
}

/// [`decode`]; `fast`: EXECUTE bodies of the common shape skip the crate
/// ([`execute::decode`]).
fn decode_with(op: u8, v5: bool, metadata_id: bool, body: &[u8], fast: bool) -> Res<Request> {
    let flags = validate(op, v5, metadata_id, body)?;
    if fast
        && op == OP_EXECUTE
        && let Some(request) = execute::decode(v5, metadata_id, body, flags)
    {
        return Ok(request);
    }
    // v4 EXECUTE with SCYLLA_USE_METADATA_ID: the crate knows the metadata id only in v5, so
    // take it out here and hand the crate a plain v4 body.
    if op == OP_EXECUTE && metadata_id && !v5 {
        let mut w = Walker { b: body, p: 0 };
        w.short_bytes("statement id")?;
        let id_end = w.p;
        let n = w.count("result metadata id")?;
        let meta = Bytes::copy_from_slice(w.take(n, "result metadata id")?);
        let mut plain = Vec::with_capacity(body.len() - (w.p - id_end));
        plain.extend_from_slice(&body[..id_end]);
        plain.extend_from_slice(&body[w.p..]);
        return match decode_with(op, false, false, &plain, fast)? {
            Request::Execute { id, params, .. } => Ok(Request::Execute {
                id,
                metadata_id: Some(meta),
                params,
            }),
            _ => Err(RequestError::Opcode(op)),
        };
    }
    // The register body lists names the crate may not know (it rejects unknown event
    // types); read it here from the validated layout instead.
    if op == OP_REGISTER {
        let mut w = Walker { b: body, p: 0 };
        let mut events = Vec::new();
        for _ in 0..w.count("event count")? {
            events.push(String::from_utf8_lossy(w.string("event type")?).into_owned());
        }
        return Ok(Request::Register(events));
    }
    let version = if v5 { Version::V5 } else { Version::V4 };
    let decoded = RequestBody::try_from(body, opcode(op)?, version)
        .map_err(|e| RequestError::Decode(e.to_string()))?;
    Ok(match decoded {
        RequestBody::Startup(s) => Request::Startup(s.map),
        RequestBody::Options(_) => Request::Options,
        RequestBody::Query(q) => Request::Query {
            query: q.query,
            params: params(q.query_params, flags),
        },
        RequestBody::Prepare(p) => Request::Prepare {
            query: p.query,
            keyspace: p.keyspace,
        },
        RequestBody::Execute(e) => Request::Execute {
            id: Bytes::from(e.id.into_bytes().unwrap_or_default()),
            metadata_id: e
                .result_metadata_id
                .and_then(|m| m.into_bytes())
                .map(Bytes::from),
            params: params(e.query_parameters, flags),
        },
        RequestBody::Batch(b) => {
            let items = b
                .queries
                .into_iter()
                .map(|q| {
                    let values = match q.values {
                        QueryValues::SimpleValues(v) => v.into_iter().map(bound).collect(),
                        QueryValues::NamedValues(m) => m.into_values().map(bound).collect(),
                    };
                    match q.subject {
                        BatchQuerySubj::QueryString(s) => BatchItem::Query(s, values),
                        BatchQuerySubj::PreparedId(id) => BatchItem::Prepared(
                            Bytes::from(id.into_bytes().unwrap_or_default()),
                            values,
                        ),
                    }
                })
                .collect();
            Request::Batch {
                kind: b.batch_type,
                items,
                params: QueryParams {
                    consistency: i16::from(b.consistency) as u16,
                    serial_consistency: b.serial_consistency.map(|c| i16::from(c) as u16),
                    timestamp: b.timestamp,
                    keyspace: b.keyspace,
                    now_in_seconds: b.now_in_seconds,
                    ..QueryParams::default()
                },
            }
        }
        RequestBody::AuthResponse(a) => Request::AuthResponse(a.data.into_bytes()),
        RequestBody::Register(_) => return Err(RequestError::Opcode(op)),
        _ => return Err(RequestError::Opcode(op)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_body(q: &str, tail: &[u8]) -> Vec<u8> {
        let mut b = (q.len() as i32).to_be_bytes().to_vec();
        b.extend_from_slice(q.as_bytes());
        b.extend_from_slice(tail);
        b
    }

    #[test]
    fn query_with_values_and_paging() {
        // consistency ONE, flags VALUES|PAGE_SIZE|SKIP_METADATA, 3 values: blob, null, unset.
        let tail = [
            0, 1, 0x07, 0, 3, 0, 0, 0, 2, 0xab, 0xcd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xfe, 0, 0, 0, 10,
        ];
        let body = query_body("SELECT 1", &tail);
        let Request::Query { query, params } = decode(OP_QUERY, false, false, &body).unwrap()
        else {
            panic!()
        };
        assert_eq!(query, "SELECT 1");
        assert_eq!(params.consistency, 1);
        assert!(params.skip_metadata);
        assert_eq!(params.page_size, Some(10));
        assert_eq!(
            params.values,
            vec![
                BoundValue::Set(Bytes::from_static(&[0xab, 0xcd])),
                BoundValue::Null,
                BoundValue::Unset
            ]
        );
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        // Negative query length.
        assert!(matches!(
            decode(OP_QUERY, false, false, &[0xff, 0xff, 0xff, 0xfe]),
            Err(RequestError::Invalid { .. })
        ));
        // Value length -3.
        let body = query_body("x", &[0, 1, 1, 0, 1, 0xff, 0xff, 0xff, 0xfd]);
        assert!(matches!(
            decode(OP_QUERY, false, false, &body),
            Err(RequestError::Invalid { .. })
        ));
        // Negative value count.
        let body = query_body("x", &[0, 1, 1, 0x80, 0]);
        assert!(matches!(
            decode(OP_QUERY, false, false, &body),
            Err(RequestError::Invalid { .. })
        ));
        // Value longer than the body.
        let body = query_body("x", &[0, 1, 1, 0, 1, 0x7f, 0, 0, 0, 1]);
        assert!(matches!(
            decode(OP_QUERY, false, false, &body),
            Err(RequestError::Truncated { .. })
        ));
        // Negative startup map size, string longer than the body.
        assert!(decode(OP_STARTUP, false, false, &[0xff, 0xff]).is_err());
        assert!(decode(OP_STARTUP, false, false, &[0, 1, 0x7f, 0xff, b'a']).is_err());
        // Negative batch count.
        assert!(decode(OP_BATCH, false, false, &[0, 0xff, 0xff, 0, 1, 0]).is_err());
        // Trailing garbage.
        let body = query_body("x", &[0, 1, 0, 9]);
        assert_eq!(
            decode(OP_QUERY, false, false, &body).unwrap_err(),
            RequestError::Trailing(1)
        );
        // Unknown consistency is rejected by the crate as a typed error.
        let body = query_body("x", &[0x7f, 0x7f, 0]);
        assert!(matches!(
            decode(OP_QUERY, false, false, &body),
            Err(RequestError::Decode(_))
        ));
        assert!(matches!(
            decode(0x08, false, false, &[]),
            Err(RequestError::Opcode(8))
        ));
    }

    #[test]
    fn startup_execute_batch_register() {
        let body = [
            0, 1, 0, 11, b'C', b'Q', b'L', b'_', b'V', b'E', b'R', b'S', b'I', b'O', b'N', 0, 5,
            b'3', b'.', b'0', b'.', b'0',
        ];
        let Request::Startup(m) = decode(OP_STARTUP, false, false, &body).unwrap() else {
            panic!()
        };
        assert_eq!(m["CQL_VERSION"], "3.0.0");
        // v5 EXECUTE: id [1,2], metadata id [3], consistency QUORUM, flags 0 (4 bytes).
        let body = [0, 2, 1, 2, 0, 1, 3, 0, 4, 0, 0, 0, 0];
        let Request::Execute {
            id,
            metadata_id,
            params,
        } = decode(OP_EXECUTE, true, true, &body).unwrap()
        else {
            panic!()
        };
        assert_eq!(&id[..], &[1, 2]);
        assert_eq!(metadata_id.as_deref(), Some(&[3u8][..]));
        assert_eq!(params.consistency, 4);
        // Unlogged batch: one query "q" with one value, one prepared id [9]; ONE, no flags.
        let body = [
            1, 0, 2, 0, 0, 0, 0, 1, b'q', 0, 1, 0, 0, 0, 1, 7, 1, 0, 1, 9, 0, 0, 0, 1, 0,
        ];
        let Request::Batch {
            kind,
            items,
            params,
        } = decode(OP_BATCH, false, false, &body).unwrap()
        else {
            panic!()
        };
        assert_eq!(kind, BatchType::Unlogged);
        assert_eq!(params.consistency, 1);
        assert!(matches!(&items[0], BatchItem::Query(q, v) if q == "q" && v.len() == 1));
        assert!(matches!(&items[1], BatchItem::Prepared(id, v) if id[..] == [9] && v.is_empty()));
        let body = [
            0, 2, 0, 3, b'A', b'B', b'C', 0, 13, b'S', b'C', b'H', b'E', b'M', b'A', b'_', b'C',
            b'H', b'A', b'N', b'G', b'E',
        ];
        let Request::Register(ev) = decode(OP_REGISTER, false, false, &body).unwrap() else {
            panic!()
        };
        assert_eq!(ev, vec!["ABC".to_string(), "SCHEMA_CHANGE".to_string()]);
        assert_eq!(
            skip_custom_payload(&[0, 1, 0, 1, b'k', 0, 0, 0, 1, 5, 0xaa]).unwrap(),
            10
        );
        assert!(skip_custom_payload(&[0, 1, 0, 1, b'k', 0, 0, 0, 9]).is_err());
    }
}
