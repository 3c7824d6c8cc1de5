//! The pool's pick of a connection as its connections are published: the per-shard copies
//! (`by_shard`) follow every publication, and every pool shape picks what `conns` holds.

use std::num::NonZeroU16;

use super::*;
use crate::connection::tests::{Mode, client, fake_server};

fn sharded(shards: u16, per_shard: usize, slots: Vec<Option<Arc<Connection>>>) -> Conns {
    Conns {
        sharder: NonZeroU16::new(shards).map(|n| Sharder::new(n, 12)),
        shard_port: None,
        per_shard,
        slots,
    }
}

fn picked(pool: &NodePool, shard: Option<Shard>) -> Option<*const Connection> {
    match pool.connection(shard) {
        Some(Pick::Usable(c)) => Some(Arc::as_ptr(&c)),
        Some(Pick::Suspect(_)) => panic!("only usable connections here"),
        None => None,
    }
}

#[tokio::test]
async fn a_pick_follows_every_publication_of_the_shards_connections() {
    let addr = fake_server(Mode::Echo).await;
    let config = ConnectionConfig::default();
    let a = Arc::new(client(addr, &config).await);
    let b = Arc::new(client(addr, &config).await);
    let c = Arc::new(client(addr, &config).await);
    let (pa, pb, pc) = (Arc::as_ptr(&a), Arc::as_ptr(&b), Arc::as_ptr(&c));
    let pool = NodePool::without_task(addr, Uuid::nil());

    // One connection per shard: each shard's own.
    pool.publish(sharded(2, 1, vec![Some(a.clone()), Some(b.clone())]));
    assert_eq!(picked(&pool, Some(0)), Some(pa));
    assert_eq!(picked(&pool, Some(1)), Some(pb));

    // Shard 0's connection replaced while the old one is still usable: never picked again.
    pool.publish(sharded(2, 1, vec![Some(c.clone()), Some(b.clone())]));
    assert!(a.is_usable());
    for _ in 0..8 {
        assert_eq!(picked(&pool, Some(0)), Some(pc));
    }

    // Shard 1 emptied: its requests go to another usable connection (shard 0's).
    pool.publish(sharded(2, 1, vec![Some(c.clone()), None]));
    for _ in 0..8 {
        assert_eq!(picked(&pool, Some(1)), Some(pc));
    }
    // A shard beyond the copies takes `conns` too.
    assert_eq!(picked(&pool, Some(7)), Some(pc));

    // Two connections per shard: the copies are emptied, picks rotate within the shard.
    pool.publish(sharded(
        2,
        2,
        vec![Some(a.clone()), Some(b.clone()), None, None],
    ));
    let by_shard = pool.by_shard.get().expect("sized by the first sharding");
    assert!(by_shard.iter().all(|s| s.lock().is_none()));
    let mut seen: Vec<_> = (0..8).filter_map(|_| picked(&pool, Some(0))).collect();
    seen.sort();
    seen.dedup();
    let mut both = vec![pa, pb];
    both.sort();
    assert_eq!(seen, both);

    // Back to one per shard, then a closed connection: never picked.
    pool.publish(sharded(2, 1, vec![Some(a.clone()), Some(b.clone())]));
    a.close();
    for _ in 0..8 {
        assert_eq!(picked(&pool, Some(0)), Some(pb));
    }

    // Without sharding (Cassandra): no copies are used or kept.
    pool.publish(sharded(0, 1, vec![Some(c.clone())]));
    assert!(by_shard.iter().all(|s| s.lock().is_none()));
    assert_eq!(picked(&pool, Some(0)), Some(pc));
    assert_eq!(picked(&pool, None), Some(pc));
}
