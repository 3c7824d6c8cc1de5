//! Arbitrary opcode, header flags, protocol version, decoding context and body through
//! `Response::decode`. It must never panic nor loop; whatever decodes is then walked entirely
//! (rows iterated raw and as dynamic `Row`s with their own column specs, SUPPORTED accessors
//! called, a tablet routing payload decoded).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use scylla2_cql::frame::{HeaderFlags, Opcode};
use scylla2_cql::ProtocolVersion;
use scylla2_cql::response::{Response, ResponseContext, ResultResponse};
use scylla2_cql::value::Row;

fuzz_target!(|data: &[u8]| {
    let Some((head, body)) = data.split_first_chunk::<3>() else {
        return;
    };
    let [opcode, flags, control] = *head;
    let Ok(opcode) = Opcode::from_u8(opcode % 0x11) else {
        return;
    };
    let version = if control & 1 == 0 {
        ProtocolVersion::V4
    } else {
        ProtocolVersion::V5
    };
    let ctx = ResponseContext {
        rate_limit_error_code: (control & 2 != 0).then_some(0xF000),
        lwt_mask: (control & 4 != 0).then_some(0x8000_0000),
        use_metadata_id: control & 8 != 0,
    };
    let Ok(decoded) = Response::decode(
        opcode,
        HeaderFlags(flags),
        version,
        Bytes::copy_from_slice(body),
        &ctx,
    ) else {
        return;
    };
    if let Some(payload) = &decoded.extras.custom_payload {
        let _ = payload.tablet_routing();
    }
    match decoded.response {
        Response::Result(ResultResponse::Rows(rows)) => {
            if let Some(columns) = rows.columns() {
                if let Ok(iter) = rows.iter::<Row>(columns) {
                    for row in iter {
                        if row.is_err() {
                            break;
                        }
                    }
                }
                if let Ok(iter) = rows.raw_rows(columns) {
                    for row in iter {
                        let Ok(row) = row else { break };
                        for cell in row {
                            let _ = cell.map(|(_, v)| v.map(|v| v.to_bytes()));
                        }
                    }
                }
            }
        }
        Response::Supported(s) => {
            let _ = s.shard();
            let _ = s.nr_shards();
            let _ = s.sharding_ignore_msb();
            let _ = s.shard_aware_port();
            let _ = s.host_id();
            let _ = s.response_context();
            let _ = s.protocol_version_numbers().count();
        }
        Response::Error(e) => {
            let _ = e.error.code();
            let _ = e.to_string();
        }
        _ => {}
    }
});
