//! scylla2: the driver (session, execution, routing, topology, connections).
