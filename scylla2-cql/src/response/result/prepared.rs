//! RESULT kind Prepared (v4/v5 §4.2.5.4): `<id>[<result_metadata_id>]<metadata><result_metadata>`,
//! with Scylla's LWT mark read from the bind metadata flags.

use bytes::Bytes;

use super::super::{ResponseContext, ResponseError, slice_of};
use super::rows::{ResultMetadata, TableSpec, check_fits, read_count, read_specs};
use crate::frame::ProtocolVersion;
use crate::types::ColumnSpec;
use crate::wire::WireReader;

/// The bind markers of a prepared statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedMetadata {
    /// Raw flags (Scylla may set its LWT bit here).
    pub flags: i32,
    /// For each partition key column, in order, the index of its bind marker (empty when some
    /// partition key column is not bound).
    pub pk_indexes: Vec<u16>,
    /// The table of all markers (flag Global_tables_spec).
    pub global_table_spec: Option<TableSpec>,
    /// One spec per bind marker.
    pub columns: Vec<ColumnSpec>,
}

impl PreparedMetadata {
    /// Decodes `<flags><columns_count><pk_count>[<pk_index>...][<global_table_spec>]<col_spec>...`.
    pub fn decode(r: &mut WireReader<'_>) -> Result<Self, ResponseError> {
        let flags = r.read_i32()?;
        let columns_count = read_count(r, "bind marker")?;
        let pk_count = read_count(r, "partition key index")?;
        check_fits(r, "partition key index", pk_count, 2)?;
        let mut pk_indexes = Vec::with_capacity(pk_count);
        for _ in 0..pk_count {
            pk_indexes.push(r.read_u16()?);
        }
        let (global_table_spec, columns) = read_specs(r, flags, columns_count)?;
        Ok(Self {
            flags,
            pk_indexes,
            global_table_spec,
            columns,
        })
    }
}

/// A Prepared result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The prepared statement id.
    pub id: Bytes,
    /// The result metadata id (v5, or v4 with `SCYLLA_USE_METADATA_ID`).
    pub result_metadata_id: Option<Bytes>,
    /// The bind markers.
    pub bind: PreparedMetadata,
    /// The columns executions will return (may be empty with No_metadata).
    pub result: ResultMetadata,
    /// Scylla: the statement is conditional (LWT), per the mask from SUPPORTED.
    pub is_lwt: bool,
}

impl Prepared {
    /// Decodes the rest of a Prepared result from `r`, a reader over `body`.
    pub fn decode(
        r: &mut WireReader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
        ctx: &ResponseContext,
    ) -> Result<Self, ResponseError> {
        let id = slice_of(body, r.read_short_bytes()?);
        let result_metadata_id = if version >= ProtocolVersion::V5 || ctx.use_metadata_id {
            Some(slice_of(body, r.read_short_bytes()?))
        } else {
            None
        };
        let bind = PreparedMetadata::decode(r)?;
        let result = ResultMetadata::decode(r, body)?;
        let is_lwt = ctx
            .lwt_mask
            .is_some_and(|mask| bind.flags as u32 & mask != 0);
        Ok(Self {
            id,
            result_metadata_id,
            bind,
            result,
            is_lwt,
        })
    }
}
