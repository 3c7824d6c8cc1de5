//! The protocol server: listeners, connections, sharding, statistics, fault injection.
