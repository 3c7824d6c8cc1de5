//! SUPPORTED (v4/v5 §4.2.4): a `[string multimap]` of the options a server supports, with
//! typed accessors for the standard keys and every Scylla extension key (decoded once per
//! connection, so it owns its strings).

use std::str::FromStr;

use super::{ResponseContext, ResponseError};
use crate::wire::WireReader;

const LWT_MASK_PREFIX: &str = "LWT_OPTIMIZATION_META_BIT_MASK=";
const RATE_LIMIT_PREFIX: &str = "ERROR_CODE=";

/// A SUPPORTED message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Supported {
    /// Keys and their values, in wire order.
    pub options: Vec<(String, Vec<String>)>,
}

/// The keys servers send (standard and ScyllaDB extensions), which STARTUP echoes for the
/// extensions a client accepts.
impl Supported {
    /// Key: CQL versions.
    pub const CQL_VERSION: &'static str = "CQL_VERSION";
    /// Key: compression algorithms.
    pub const COMPRESSION: &'static str = "COMPRESSION";
    /// Key: protocol versions (`"4/v4"`, `"5/v5-beta"`, …).
    pub const PROTOCOL_VERSIONS: &'static str = "PROTOCOL_VERSIONS";
    /// Scylla: shard owning this connection.
    pub const SCYLLA_SHARD: &'static str = "SCYLLA_SHARD";
    /// Scylla: number of shards of the node.
    pub const SCYLLA_NR_SHARDS: &'static str = "SCYLLA_NR_SHARDS";
    /// Scylla: partitioner class.
    pub const SCYLLA_PARTITIONER: &'static str = "SCYLLA_PARTITIONER";
    /// Scylla: sharding algorithm.
    pub const SCYLLA_SHARDING_ALGORITHM: &'static str = "SCYLLA_SHARDING_ALGORITHM";
    /// Scylla: the sharding algorithm's ignore-msb parameter.
    pub const SCYLLA_SHARDING_IGNORE_MSB: &'static str = "SCYLLA_SHARDING_IGNORE_MSB";
    /// Scylla: shard-aware port.
    pub const SCYLLA_SHARD_AWARE_PORT: &'static str = "SCYLLA_SHARD_AWARE_PORT";
    /// Scylla: shard-aware TLS port.
    pub const SCYLLA_SHARD_AWARE_PORT_SSL: &'static str = "SCYLLA_SHARD_AWARE_PORT_SSL";
    /// Scylla: host id of the node.
    pub const SCYLLA_HOST_ID: &'static str = "SCYLLA_HOST_ID";
    /// Scylla: LWT mark in PREPARED metadata flags (`LWT_OPTIMIZATION_META_BIT_MASK=<u32>`).
    pub const SCYLLA_LWT_ADD_METADATA_MARK: &'static str = "SCYLLA_LWT_ADD_METADATA_MARK";
    /// Scylla: rate-limit error code (`ERROR_CODE=<i32>`).
    pub const SCYLLA_RATE_LIMIT_ERROR: &'static str = "SCYLLA_RATE_LIMIT_ERROR";
    /// Scylla: tablet routing information in custom payloads.
    pub const TABLETS_ROUTING_V1: &'static str = "TABLETS_ROUTING_V1";
    /// Scylla: result metadata ids on v4.
    pub const SCYLLA_USE_METADATA_ID: &'static str = "SCYLLA_USE_METADATA_ID";

    /// Decodes a `[string multimap]`.
    pub fn decode(r: &mut WireReader<'_>) -> Result<Self, ResponseError> {
        let n = r.read_count_u16()?;
        // Each entry takes at least 4 bytes.
        let mut options = Vec::with_capacity(n.min(r.len() / 4));
        for _ in 0..n {
            let key = r.read_string()?.to_owned();
            let values = r.read_string_list()?.map(str::to_owned).collect();
            options.push((key, values));
        }
        Ok(Self { options })
    }

    /// All values of `key`.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of `key`.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.get(key)?.first().map(String::as_str)
    }

    /// Whether `key` is present (flag-like extensions have no or empty values).
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn parse<T: FromStr>(&self, key: &'static str) -> Result<Option<T>, ResponseError> {
        self.first(key)
            .map(|v| parse_value(key, v.trim()))
            .transpose()
    }

    fn parse_prefixed<T: FromStr>(
        &self,
        key: &'static str,
        prefix: &str,
    ) -> Result<Option<T>, ResponseError> {
        let Some(values) = self.get(key) else {
            return Ok(None);
        };
        for v in values {
            if let Some(n) = v.trim().strip_prefix(prefix) {
                return parse_value(key, n).map(Some);
            }
        }
        Err(invalid(key, values.first().map_or("", String::as_str)))
    }

    /// Supported CQL versions.
    pub fn cql_versions(&self) -> &[String] {
        self.get(Self::CQL_VERSION).unwrap_or_default()
    }

    /// Supported compression algorithms.
    pub fn compression(&self) -> &[String] {
        self.get(Self::COMPRESSION).unwrap_or_default()
    }

    /// Supported protocol versions as sent (`"4/v4"`).
    pub fn protocol_versions(&self) -> &[String] {
        self.get(Self::PROTOCOL_VERSIONS).unwrap_or_default()
    }

    /// Supported protocol version numbers, skipping beta ones.
    pub fn protocol_version_numbers(&self) -> impl Iterator<Item = u8> + '_ {
        self.protocol_versions().iter().filter_map(|v| {
            let (n, desc) = v.split_once('/').unwrap_or((v, ""));
            if desc.contains("beta") {
                None
            } else {
                n.parse().ok()
            }
        })
    }

    /// Scylla: the shard owning this connection.
    pub fn shard(&self) -> Result<Option<u32>, ResponseError> {
        self.parse(Self::SCYLLA_SHARD)
    }

    /// Scylla: the node's shard count.
    pub fn nr_shards(&self) -> Result<Option<u32>, ResponseError> {
        self.parse(Self::SCYLLA_NR_SHARDS)
    }

    /// Scylla: the partitioner class name.
    pub fn partitioner(&self) -> Option<&str> {
        self.first(Self::SCYLLA_PARTITIONER)
    }

    /// Scylla: the sharding algorithm name.
    pub fn sharding_algorithm(&self) -> Option<&str> {
        self.first(Self::SCYLLA_SHARDING_ALGORITHM)
    }

    /// Scylla: the sharding algorithm's ignore-msb bits.
    pub fn sharding_ignore_msb(&self) -> Result<Option<u8>, ResponseError> {
        self.parse(Self::SCYLLA_SHARDING_IGNORE_MSB)
    }

    /// Scylla: the shard-aware port.
    pub fn shard_aware_port(&self) -> Result<Option<u16>, ResponseError> {
        self.parse(Self::SCYLLA_SHARD_AWARE_PORT)
    }

    /// Scylla: the shard-aware TLS port.
    pub fn shard_aware_port_ssl(&self) -> Result<Option<u16>, ResponseError> {
        self.parse(Self::SCYLLA_SHARD_AWARE_PORT_SSL)
    }

    /// Scylla: the node's host id.
    pub fn host_id(&self) -> Result<Option<uuid::Uuid>, ResponseError> {
        self.parse(Self::SCYLLA_HOST_ID)
    }

    /// Scylla: the LWT bit mask of PREPARED metadata flags.
    pub fn lwt_mask(&self) -> Result<Option<u32>, ResponseError> {
        self.parse_prefixed(Self::SCYLLA_LWT_ADD_METADATA_MARK, LWT_MASK_PREFIX)
    }

    /// Scylla: the rate-limit error code.
    pub fn rate_limit_error_code(&self) -> Result<Option<i32>, ResponseError> {
        self.parse_prefixed(Self::SCYLLA_RATE_LIMIT_ERROR, RATE_LIMIT_PREFIX)
    }

    /// Scylla: whether tablet routing payloads are supported.
    pub fn tablets_routing_v1(&self) -> bool {
        self.contains(Self::TABLETS_ROUTING_V1)
    }

    /// Scylla: whether result metadata ids are supported on v4.
    pub fn use_metadata_id(&self) -> bool {
        self.contains(Self::SCYLLA_USE_METADATA_ID)
    }

    /// The decoding context these options give, assuming the driver echoes (enables) every
    /// extension in STARTUP; clear the fields of extensions it does not enable.
    pub fn response_context(&self) -> Result<ResponseContext, ResponseError> {
        Ok(ResponseContext {
            rate_limit_error_code: self.rate_limit_error_code()?,
            lwt_mask: self.lwt_mask()?,
            use_metadata_id: self.use_metadata_id(),
        })
    }
}

fn invalid(key: &'static str, value: &str) -> ResponseError {
    ResponseError::InvalidField {
        field: key,
        value: value.to_owned(),
    }
}

fn parse_value<T: FromStr>(key: &'static str, v: &str) -> Result<T, ResponseError> {
    v.parse().map_err(|_| invalid(key, v))
}
