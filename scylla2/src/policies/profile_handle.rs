//! Execution profile handles: an [`ExecutionProfileHandle`] is a shared, re-pointable
//! reference to an [`ExecutionProfile`]. Statements set with `with_profile_handle`, and the
//! session's default profile (`SessionBuilder::default_execution_profile`), read the
//! handle's current profile at each execution; `map_to` re-points every one of them at once,
//! at run time.
//!
//! Which profile an execution uses: the statement's own (`with_profile` or
//! `with_profile_handle`, whichever was set last), else the session's default profile. Its
//! settings sit between the statement's options and the session's defaults. Reading a
//! handle is one `ArcSwap` load (an atomic increment, no allocation, no lock).

use std::ops::Deref;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::ExecutionProfile;
use crate::statement::{ExecutionDefaults, StatementOptions};

/// A re-pointable execution profile shared by statements and sessions. Cheap to clone:
/// clones are the same handle.
///
/// ```
/// use std::time::Duration;
/// use scylla2::Query;
/// use scylla2::policies::{ExecutionProfile, ExecutionProfileHandle};
/// use scylla2::Consistency;
///
/// let handle = ExecutionProfileHandle::new(
///     ExecutionProfile::new().with_consistency(Consistency::LocalQuorum),
/// );
/// let query = Query::new("SELECT * FROM ks.t").with_profile_handle(handle.clone());
/// // Later, e.g. while a data center is down: every statement using the handle follows.
/// handle.map_to(ExecutionProfile::new().with_consistency(Consistency::One));
/// assert_eq!(handle.profile().consistency, Some(Consistency::One));
/// # let _ = query;
/// ```
///
/// Re-pointed at run time, against a one-node cluster:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let uri = sim.contact_points()[0].to_string();
/// use scylla2::Consistency;
/// use scylla2::policies::{ExecutionProfile, ExecutionProfileHandle};
///
/// let handle = ExecutionProfileHandle::new(ExecutionProfile::new().with_consistency(Consistency::Three));
/// let session = scylla2::Session::builder()
///     .contact_point(uri)
///     .default_execution_profile(handle.clone())
///     .connect()
///     .await?;
/// session.execute("CREATE KEYSPACE ks WITH replication = \
///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
/// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY)", ()).await?;
/// // THREE replicas cannot answer with one: UNAVAILABLE.
/// assert!(session.execute("SELECT id FROM ks.t", ()).await.is_err());
/// handle.map_to(ExecutionProfile::new().with_consistency(Consistency::One));
/// assert_eq!(session.execute("SELECT id FROM ks.t", ()).await?.rows_num(), 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ExecutionProfileHandle {
    current: Arc<ArcSwap<ExecutionProfile>>,
}

impl ExecutionProfileHandle {
    /// A handle pointing at `profile`.
    pub fn new(profile: ExecutionProfile) -> Self {
        Self {
            current: Arc::new(ArcSwap::from_pointee(profile)),
        }
    }

    /// Re-points the handle: executions that start from now on use `profile`.
    pub fn map_to(&self, profile: ExecutionProfile) {
        self.current.store(Arc::new(profile));
    }

    /// The profile the handle points at now.
    pub fn profile(&self) -> Arc<ExecutionProfile> {
        self.current.load_full()
    }

    /// Whether `self` and `other` are the same handle (clones of one another).
    pub fn same_handle(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.current, &other.current)
    }
}

impl From<ExecutionProfile> for ExecutionProfileHandle {
    fn from(profile: ExecutionProfile) -> Self {
        Self::new(profile)
    }
}

/// The profile of one execution: borrowed from the statement, or loaded from a handle (an
/// owned `Arc`, so that no `ArcSwap` guard is held while the request is in flight).
#[derive(Debug)]
pub(crate) enum ProfileRef<'a> {
    Borrowed(&'a ExecutionProfile),
    Loaded(Arc<ExecutionProfile>),
}

impl Deref for ProfileRef<'_> {
    type Target = ExecutionProfile;

    fn deref(&self) -> &ExecutionProfile {
        match self {
            Self::Borrowed(p) => p,
            Self::Loaded(p) => p,
        }
    }
}

impl StatementOptions {
    /// With the profile that `handle` points at when each execution starts (replaces a
    /// profile set with `with_profile`).
    pub fn set_profile_handle(&mut self, handle: ExecutionProfileHandle) {
        self.profile = None;
        self.profile_handle = Some(handle);
    }

    /// The profile an execution of a statement with these options uses: the statement's
    /// own, else the session's default one.
    pub(crate) fn current_profile<'a>(
        &'a self,
        defaults: &ExecutionDefaults,
    ) -> Option<ProfileRef<'a>> {
        if let Some(p) = self.profile.as_deref() {
            return Some(ProfileRef::Borrowed(p));
        }
        self.profile_handle
            .as_ref()
            .or(defaults.profile.as_ref())
            .map(|h| ProfileRef::Loaded(h.current.load_full()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scylla2_cql::Consistency;

    use super::*;

    fn defaults_with(profile: Option<ExecutionProfileHandle>) -> ExecutionDefaults {
        ExecutionDefaults {
            profile,
            ..ExecutionDefaults::default()
        }
    }

    #[test]
    fn a_handle_re_points_every_statement_that_uses_it() {
        let handle =
            ExecutionProfileHandle::new(ExecutionProfile::new().with_consistency(Consistency::Two));
        let mut options = StatementOptions::default();
        options.set_profile_handle(handle.clone());
        let defaults = ExecutionDefaults::default();
        assert_eq!(
            options
                .resolve(&defaults, crate::statement::Paging::Unpaged)
                .consistency,
            Consistency::Two
        );
        handle.map_to(ExecutionProfile::new().with_consistency(Consistency::Three));
        assert_eq!(
            options
                .resolve(&defaults, crate::statement::Paging::Unpaged)
                .consistency,
            Consistency::Three
        );
        // The statement's own option still wins.
        options.consistency = Some(Consistency::One);
        assert_eq!(
            options
                .resolve(&defaults, crate::statement::Paging::Unpaged)
                .consistency,
            Consistency::One
        );
    }

    #[test]
    fn the_session_default_profile_sits_below_the_statement_s() {
        let session = ExecutionProfileHandle::new(
            ExecutionProfile::new()
                .with_consistency(Consistency::Quorum)
                .with_timeout(Duration::from_millis(7)),
        );
        let defaults = defaults_with(Some(session.clone()));
        let plain = StatementOptions::default();
        let r = plain.resolve(&defaults, crate::statement::Paging::Unpaged);
        assert_eq!(
            (r.consistency, r.timeout),
            (Consistency::Quorum, Some(Duration::from_millis(7)))
        );
        // A statement profile (plain or handle) replaces the session's, unset fields then
        // come from the session defaults.
        let mut own = StatementOptions {
            profile: Some(Arc::new(
                ExecutionProfile::new().with_consistency(Consistency::One),
            )),
            ..StatementOptions::default()
        };
        let r = own.resolve(&defaults, crate::statement::Paging::Unpaged);
        assert_eq!(r.consistency, Consistency::One);
        assert_eq!(r.timeout, ExecutionDefaults::default().timeout);
        session.map_to(ExecutionProfile::new().with_consistency(Consistency::All));
        assert_eq!(
            plain
                .resolve(&defaults, crate::statement::Paging::Unpaged)
                .consistency,
            Consistency::All
        );
        // set_profile_handle replaces a plain profile.
        own.set_profile_handle(session.clone());
        assert!(own.profile.is_none());
        assert_eq!(
            own.resolve(&defaults, crate::statement::Paging::Unpaged)
                .consistency,
            Consistency::All
        );
        assert!(
            own.profile_handle
                .as_ref()
                .is_some_and(|h| h.same_handle(&session))
        );
    }
}
