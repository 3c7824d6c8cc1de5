//! Reading the cluster's metadata on the control connection: `system.local`,
//! `system.peers_v2` (falling back to `system.peers` when the server answers Invalid, as
//! Scylla does) and `system_schema.keyspaces`; plus the schema versions for agreement checks.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use scylla2_cql::Consistency;
use scylla2_cql::request::{Query, QueryParameters};
use scylla2_cql::response::DbError;
use uuid::Uuid;

use super::AddressTranslator;
use crate::connection::Connection;
use crate::error::TopologyError;
use crate::error::{ExecutionError, RowsError};
use crate::execution::{Decoded, decode};
use crate::result::QueryResult;
use crate::routing::{ReplicationStrategy, Token};

/// One row of `system.local` / `system.peers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeerRow {
    pub(crate) host_id: Uuid,
    pub(crate) address: SocketAddr,
    pub(crate) datacenter: Option<String>,
    pub(crate) rack: Option<String>,
    pub(crate) tokens: Vec<Token>,
    pub(crate) schema_version: Option<Uuid>,
}

/// What a refresh reads.
#[derive(Debug, Clone)]
pub(crate) struct Metadata {
    pub(crate) nodes: Vec<PeerRow>,
    pub(crate) keyspaces: Vec<(String, ReplicationStrategy)>,
}

/// How long a metadata query may take.
pub(crate) const METADATA_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs a query on `conn` at consistency ONE without values, within [`METADATA_TIMEOUT`].
pub(crate) async fn query(conn: &Connection, text: &str) -> Result<QueryResult, ExecutionError> {
    let request = Query {
        query: text,
        params: QueryParameters::new(Consistency::One, &()),
    };
    let envelope = tokio::time::timeout(METADATA_TIMEOUT, conn.send(&request, Default::default()))
        .await
        .map_err(|_| ExecutionError::Timeout(METADATA_TIMEOUT))??;
    match decode(conn, envelope, None)? {
        Decoded::Result(r) => Ok(r),
        Decoded::Prepared(_) => Err(ExecutionError::UnexpectedResponse(
            scylla2_cql::frame::Opcode::Result,
        )),
    }
}

fn parse_tokens(tokens: Option<Vec<String>>) -> Vec<Token> {
    tokens
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.parse::<i64>().ok().map(Token))
        .collect()
}

/// `host_id, data_center, rack, tokens, rpc_address, schema_version`.
type LocalRow = (
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
    Option<IpAddr>,
    Option<Uuid>,
);

/// `peer, native_port, host_id, data_center, rack, tokens, native_address, schema_version`
/// (`native_port` is NULL for `system.peers`).
type PeerTuple = (
    Option<IpAddr>,
    Option<i32>,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
    Option<IpAddr>,
    Option<Uuid>,
);

fn push_peer(
    row: PeerTuple,
    default_port: u16,
    translator: Option<&dyn AddressTranslator>,
    out: &mut Vec<PeerRow>,
) {
    let (peer, port, host_id, dc, rack, tokens, rpc, schema) = row;
    let Some(host_id) = host_id else { return };
    let ip = match (rpc, peer) {
        (Some(ip), _) if !ip.is_unspecified() => ip,
        (_, Some(peer)) => peer,
        _ => return,
    };
    let port = port
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .unwrap_or(default_port);
    let mut address = SocketAddr::new(ip, port);
    if let Some(t) = translator {
        address = t.translate(address);
    }
    out.push(PeerRow {
        host_id,
        address,
        datacenter: dc,
        rack,
        tokens: parse_tokens(tokens),
        schema_version: schema,
    });
}

/// Reads the nodes: the control node from `system.local` (addressed as connected), the
/// others from `system.peers_v2` or `system.peers`. `use_v2` is updated when the server
/// lacks `peers_v2`.
pub(crate) async fn read_nodes(
    conn: &Connection,
    use_v2: &mut bool,
    translator: Option<&dyn AddressTranslator>,
) -> Result<Vec<PeerRow>, TopologyError> {
    let connected = conn.peer_addr();
    let local = query(
        conn,
        "SELECT host_id, data_center, rack, tokens, rpc_address, schema_version FROM system.local",
    )
    .await?;
    let mut nodes = Vec::new();
    if let Some((Some(host_id), dc, rack, tokens, _, schema)) =
        local.maybe_first_row::<LocalRow>()?
    {
        nodes.push(PeerRow {
            host_id,
            address: connected,
            datacenter: dc,
            rack,
            tokens: parse_tokens(tokens),
            schema_version: schema,
        });
    }
    if *use_v2 {
        let v2 = query(
            conn,
            "SELECT peer, native_port, host_id, data_center, rack, tokens, native_address, \
             schema_version FROM system.peers_v2",
        )
        .await;
        match v2 {
            Ok(result) => {
                for row in result.rows::<PeerTuple>()? {
                    push_peer(
                        row.map_err(RowsError::from)?,
                        connected.port(),
                        translator,
                        &mut nodes,
                    );
                }
                return Ok(dedup(nodes));
            }
            Err(ExecutionError::Db {
                error: DbError::Invalid | DbError::SyntaxError,
                ..
            }) => *use_v2 = false,
            Err(e) => return Err(e.into()),
        }
    }
    let v1 = query(
        conn,
        "SELECT peer, host_id, data_center, rack, tokens, rpc_address, schema_version \
         FROM system.peers",
    )
    .await?;
    type V1 = (
        Option<IpAddr>,
        Option<Uuid>,
        Option<String>,
        Option<String>,
        Option<Vec<String>>,
        Option<IpAddr>,
        Option<Uuid>,
    );
    for row in v1.rows::<V1>()? {
        let (peer, host_id, dc, rack, tokens, rpc, schema) = row.map_err(RowsError::from)?;
        let tuple = (peer, None, host_id, dc, rack, tokens, rpc, schema);
        push_peer(tuple, connected.port(), translator, &mut nodes);
    }
    Ok(dedup(nodes))
}

/// Keeps the first row of each host id.
fn dedup(mut nodes: Vec<PeerRow>) -> Vec<PeerRow> {
    let mut seen = Vec::with_capacity(nodes.len());
    nodes.retain(|n| {
        if seen.contains(&n.host_id) {
            false
        } else {
            seen.push(n.host_id);
            true
        }
    });
    nodes
}

/// Reads every keyspace's replication.
pub(crate) async fn read_keyspaces(
    conn: &Connection,
) -> Result<Vec<(String, ReplicationStrategy)>, TopologyError> {
    let result = query(
        conn,
        "SELECT keyspace_name, replication FROM system_schema.keyspaces",
    )
    .await?;
    let mut out = Vec::new();
    for row in result.rows::<(String, Option<HashMap<String, String>>)>()? {
        let (name, replication) = row.map_err(RowsError::from)?;
        let replication = replication.unwrap_or_default();
        let strategy = ReplicationStrategy::from_map(
            replication.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        out.push((name, strategy));
    }
    Ok(out)
}

/// Reads everything a refresh needs.
pub(crate) async fn read_metadata(
    conn: &Connection,
    use_v2: &mut bool,
    translator: Option<&dyn AddressTranslator>,
) -> Result<Metadata, TopologyError> {
    let nodes = read_nodes(conn, use_v2, translator).await?;
    let keyspaces = read_keyspaces(conn).await?;
    Ok(Metadata { nodes, keyspaces })
}
