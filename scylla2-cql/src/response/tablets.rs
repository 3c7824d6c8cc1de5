//! Scylla's `tablets-routing-v1` custom payload (see `scylla-extensions-notes.md`): attached to
//! a RESULT when a request reached a node or shard that does not own the tablet. Its value is
//! the CQL value of `tuple<bigint, bigint, list<tuple<uuid, int>>>`: the tablet's token range
//! (first exclusive, last inclusive) and its replicas as (host id, shard).

use bytes::Bytes;
use uuid::Uuid;

use super::{CustomPayload, ResponseError};
use crate::types::CqlType;
use crate::value::{DeserializeValue, FrameSlice};

/// The custom payload key of a tablet routing hint.
pub const TABLETS_ROUTING_V1_KEY: &str = "tablets-routing-v1";

/// One tablet's token range and replicas.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TabletRouting {
    /// First token of the range, exclusive.
    pub first_token: i64,
    /// Last token of the range, inclusive.
    pub last_token: i64,
    /// Replicas as (host id, shard).
    pub replicas: Vec<(Uuid, i32)>,
}

type Wire = (i64, i64, Vec<(Uuid, i32)>);

impl TabletRouting {
    /// The payload's CQL type.
    pub fn cql_type() -> CqlType {
        CqlType::Tuple(vec![
            CqlType::BigInt,
            CqlType::BigInt,
            CqlType::List(Box::new(CqlType::Tuple(vec![CqlType::Uuid, CqlType::Int]))),
        ])
    }

    /// Decodes the payload value.
    pub fn decode(value: &Bytes) -> Result<Self, ResponseError> {
        let typ = Self::cql_type();
        Wire::check_type(&typ)?;
        let (first_token, last_token, replicas) =
            Wire::deserialize(&typ, Some(FrameSlice::whole(value)))?;
        Ok(Self {
            first_token,
            last_token,
            replicas,
        })
    }
}

impl CustomPayload {
    /// The tablet routing hint, if the payload carries one.
    pub fn tablet_routing(&self) -> Result<Option<TabletRouting>, ResponseError> {
        self.get(TABLETS_ROUTING_V1_KEY)
            .map(TabletRouting::decode)
            .transpose()
    }
}
