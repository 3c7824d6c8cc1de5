//! ERROR bodies (v4 §9, v5 §9): the error codes and their extra fields, as each server
//! words them.

use std::net::IpAddr;

use super::{RATE_LIMIT_ERROR_CODE, inet_addr, int, short, short_bytes, string, string_list};
use crate::model::{SimError, WriteType, consistency_name};

fn write_type(w: WriteType) -> &'static str {
    match w {
        WriteType::Simple => "SIMPLE",
        WriteType::Batch => "BATCH",
        WriteType::UnloggedBatch => "UNLOGGED_BATCH",
        WriteType::Counter => "COUNTER",
        WriteType::BatchLog => "BATCH_LOG",
        WriteType::Cas => "CAS",
        WriteType::View => "VIEW",
        WriteType::Cdc => "CDC",
    }
}

fn failures(out: &mut Vec<u8>, v5: bool, n: i32, node: IpAddr) {
    if v5 {
        // <reasonmap>: int count, then (inetaddr, short failure code).
        int(out, n.max(0));
        for _ in 0..n.max(0) {
            inet_addr(out, node);
            short(out, 0);
        }
    } else {
        int(out, n);
    }
}

/// How the error body is written: protocol version and negotiated extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorCtx {
    pub v5: bool,
    pub rate_limit_ext: bool,
    pub node: IpAddr,
    /// ScyllaDB mode: ScyllaDB's wordings where they differ.
    pub scylla: bool,
}

/// ERROR body (v4 §9, v5 §9).
pub(crate) fn error(out: &mut Vec<u8>, e: &SimError, ctx: ErrorCtx) {
    let msg = e.to_string();
    let simple = |out: &mut Vec<u8>, code: i32, m: &str| {
        int(out, code);
        string(out, m);
    };
    match e {
        SimError::ServerError(m) => simple(out, 0x0000, m),
        SimError::ProtocolError(m) => simple(out, 0x000A, m),
        SimError::BadCredentials(m) => simple(out, 0x0100, m),
        SimError::Unavailable {
            consistency,
            required,
            alive,
        } => {
            let msg = if ctx.scylla {
                // `exceptions::unavailable_exception(cl, required, alive)`.
                format!(
                    "Cannot achieve consistency level for cl {}. Requires {required}, alive {alive}",
                    consistency_name(*consistency)
                )
            } else {
                msg
            };
            simple(out, 0x1000, &msg);
            short(out, *consistency);
            int(out, *required);
            int(out, *alive);
        }
        SimError::Overloaded(m) => simple(out, 0x1001, m),
        SimError::IsBootstrapping => simple(out, 0x1002, &msg),
        SimError::TruncateError(m) => simple(out, 0x1003, m),
        SimError::WriteTimeout {
            consistency,
            received,
            block_for,
            write_type: wt,
        } => {
            simple(out, 0x1100, &msg);
            short(out, *consistency);
            int(out, *received);
            int(out, *block_for);
            string(out, write_type(*wt));
            if ctx.v5 && *wt == WriteType::Cas {
                short(out, 0); // contentions
            }
        }
        SimError::ReadTimeout {
            consistency,
            received,
            block_for,
            data_present,
        } => {
            simple(out, 0x1200, &msg);
            short(out, *consistency);
            int(out, *received);
            int(out, *block_for);
            out.push(u8::from(*data_present));
        }
        SimError::ReadFailure {
            consistency,
            received,
            block_for,
            failures: n,
            data_present,
        } => {
            simple(out, 0x1300, &msg);
            short(out, *consistency);
            int(out, *received);
            int(out, *block_for);
            failures(out, ctx.v5, *n, ctx.node);
            out.push(u8::from(*data_present));
        }
        SimError::FunctionFailure {
            keyspace,
            function,
            arg_types,
        } => {
            simple(out, 0x1400, &msg);
            string(out, keyspace);
            string(out, function);
            string_list(out, arg_types);
        }
        SimError::WriteFailure {
            consistency,
            received,
            block_for,
            failures: n,
            write_type: wt,
        } => {
            simple(out, 0x1500, &msg);
            short(out, *consistency);
            int(out, *received);
            int(out, *block_for);
            failures(out, ctx.v5, *n, ctx.node);
            string(out, write_type(*wt));
        }
        SimError::CdcWriteFailure(m) => {
            if ctx.v5 {
                simple(out, 0x1600, m)
            } else {
                simple(out, 0x0000, m)
            }
        }
        SimError::CasWriteUnknown {
            consistency,
            received,
            block_for,
        } => {
            if ctx.v5 {
                simple(out, 0x1700, &msg);
                short(out, *consistency);
                int(out, *received);
                int(out, *block_for);
            } else {
                simple(out, 0x1100, &msg);
                short(out, *consistency);
                int(out, *received);
                int(out, *block_for);
                string(out, "CAS");
            }
        }
        SimError::SyntaxError(m) => simple(out, 0x2000, m),
        SimError::Unauthorized(m) => simple(out, 0x2100, m),
        SimError::Invalid(m) => simple(out, 0x2200, m),
        SimError::ConfigError(m) => simple(out, 0x2300, m),
        SimError::AlreadyExists {
            keyspace,
            table,
            message,
        } => {
            simple(out, 0x2400, message);
            string(out, keyspace);
            string(out, table);
        }
        SimError::Unprepared { id } => {
            simple(
                out,
                0x2500,
                &format!("Prepared query with ID {} not found", hex(id)),
            );
            short_bytes(out, id);
        }
        SimError::RateLimitReached {
            op_type,
            rejected_by_coordinator,
            ..
        } => {
            // ScyllaDB's `cql_server::make_rate_limit_error`: without the extension the
            // error goes out as a CONFIG_ERROR with the same message.
            if ctx.rate_limit_ext {
                simple(out, RATE_LIMIT_ERROR_CODE, &msg);
                out.push(*op_type);
                out.push(u8::from(*rejected_by_coordinator));
            } else {
                simple(out, 0x2300, &msg);
            }
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
