// The instruction benchmark's client built with every optional scylla2 feature (the benches
// crate's `all-driver-features`): the same source as `scylla2-instructions-client`, under its
// own name so that both builds can sit side by side in one target directory.
include!("scylla2-instructions-client.rs");
