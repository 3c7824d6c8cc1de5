//! Integration tests across crates live in `tests/`: among them those that compare scylla2
//! with the official `scylla` crate, kept here so that only this crate depends on it.
//!
//! The user guide's code blocks (`docs/guide/`) and the READMEs' are this crate's doctests:
//! each file is included below, so `cargo test` compiles every block (and runs those not
//! marked `no_run`), and the documentation cannot drift from the API.

/// The user guide, one chapter per item, for its doctests.
#[cfg(doctest)]
pub mod guide {
    /// Chapter 1.
    #[doc = include_str!("../../docs/guide/01-getting-started.md")]
    pub struct GettingStarted;
    /// Chapter 2.
    #[doc = include_str!("../../docs/guide/02-statements-and-values.md")]
    pub struct StatementsAndValues;
    /// Chapter 3.
    #[doc = include_str!("../../docs/guide/03-paging.md")]
    pub struct Paging;
    /// Chapter 4.
    #[doc = include_str!("../../docs/guide/04-batches-and-lwt.md")]
    pub struct BatchesAndLwt;
    /// Chapter 5.
    #[doc = include_str!("../../docs/guide/05-types-and-derives.md")]
    pub struct TypesAndDerives;
    /// Chapter 6.
    #[doc = include_str!("../../docs/guide/06-routing.md")]
    pub struct Routing;
    /// Chapter 7.
    #[doc = include_str!("../../docs/guide/07-timeouts-retries-speculative.md")]
    pub struct TimeoutsRetriesSpeculative;
    /// Chapter 8.
    #[doc = include_str!("../../docs/guide/08-events-and-schema.md")]
    pub struct EventsAndSchema;
    /// Chapter 9.
    #[doc = include_str!("../../docs/guide/09-observability.md")]
    pub struct Observability;
    /// Chapter 10.
    #[doc = include_str!("../../docs/guide/10-tls.md")]
    pub struct Tls;
    /// Chapter 11.
    #[doc = include_str!("../../docs/guide/11-testing.md")]
    pub struct Testing;
    /// Chapter 12.
    #[doc = include_str!("../../docs/guide/12-migrating.md")]
    pub struct Migrating;
}

/// The READMEs, for their doctests.
#[cfg(doctest)]
pub mod readmes {
    /// The repository's README.
    #[doc = include_str!("../../README.md")]
    pub struct Repository;
    /// The driver's README.
    #[doc = include_str!("../../scylla2/README.md")]
    pub struct Driver;
    /// The codec's README.
    #[doc = include_str!("../../scylla2-cql/README.md")]
    pub struct Codec;
    /// The simulator's README.
    #[doc = include_str!("../../scylla2-sim/README.md")]
    pub struct Simulator;
    /// The derives' README.
    #[doc = include_str!("../../scylla2-macros/README.md")]
    pub struct Derives;
}
