//! Criterion configuration shared by the benches: full measurement by default, a quick mode
//! for CI when `SCYLLA2_BENCH_QUICK` is set (criterion's own `--quick` flag works too).

use std::time::Duration;

use criterion::Criterion;

/// The criterion configuration: short warm-up and measurement with `SCYLLA2_BENCH_QUICK=1`.
pub fn config() -> Criterion {
    let c = Criterion::default();
    if std::env::var_os("SCYLLA2_BENCH_QUICK").is_some() {
        c.warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_millis(300))
            .sample_size(10)
    } else {
        c.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
    }
}
