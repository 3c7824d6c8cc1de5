//! scylla2-sim: an embedded in-memory CQL cluster.
