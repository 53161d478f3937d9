//! The limiter in memory: windows, buckets and the quotas they report.

use super::*;

#[test]
fn parses_rates() {
    assert_eq!(
        "5/60".parse::<Rate>(),
        Ok(Rate {
            max: 5,
            window: Duration::from_secs(60)
        })
    );
    assert!("0/60".parse::<Rate>().is_err());
    assert!("5".parse::<Rate>().is_err());
    assert!("five/60".parse::<Rate>().is_err());
}

#[tokio::test]
async fn memory_windows_count_and_reset() {
    let limiter = RateLimiter::new(None, "t");
    let rate = Some(Rate {
        max: 2,
        window: Duration::from_millis(200),
    });
    assert!(limiter.hit("test", rate, &["a"]).await.is_ok());
    assert!(limiter.hit("test", rate, &["a"]).await.is_ok());
    let Err(RateLimited {
        retry_after_secs,
        quota,
    }) = limiter.hit("test", rate, &["a"]).await
    else {
        panic!("the third hit is limited");
    };
    assert_eq!(retry_after_secs, 1, "rounded up to whole seconds");
    assert_eq!((quota.limit, quota.remaining), (2, 0), "{quota:?}");
    assert!(
        limiter.hit("test", rate, &["b"]).await.is_ok(),
        "keys are separate"
    );
    assert!(
        limiter.hit("test", None, &["a"]).await.is_ok(),
        "no rate, no limit"
    );
    // Blocked on its first key, a hit does not count against the next one.
    assert!(limiter.hit("test", rate, &["a", "c"]).await.is_err());
    assert!(limiter.hit("test", rate, &["c"]).await.is_ok());
    assert!(limiter.hit("test", rate, &["c"]).await.is_ok());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        limiter.hit("test", rate, &["a"]).await.is_ok(),
        "a new window"
    );
}

#[tokio::test]
async fn windows_tell_what_is_left_and_when_it_resets() {
    let limiter = RateLimiter::new(None, "t");
    let rate = Rate {
        max: 3,
        window: Duration::from_secs(60),
    };
    let fresh = limiter.window("test", rate, "a").await;
    assert_eq!((fresh.limit, fresh.remaining, fresh.reset_secs), (3, 3, 0));
    assert_eq!(fresh.window_secs, 60);
    let quota = |r: Result<Option<Quota>, RateLimited>| r.unwrap().unwrap();
    let first = quota(limiter.hit("test", Some(rate), &["a"]).await);
    assert_eq!((first.remaining, first.reset_secs), (2, 60), "{first:?}");
    let second = quota(limiter.hit("test", Some(rate), &["a"]).await);
    assert_eq!(second.remaining, 1);
    // Reading counts nothing.
    assert_eq!(limiter.window("test", rate, "a").await.remaining, 1);
    assert_eq!(limiter.window("test", rate, "a").await.remaining, 1);
    // Of several keys, the one with the least left.
    let both = quota(limiter.hit("test", Some(rate), &["b", "a"]).await);
    assert_eq!(both.remaining, 0, "{both:?}");
    assert!(limiter.hit("test", None, &["a"]).await.unwrap().is_none());
}

#[test]
fn the_tightest_quota_has_the_smallest_share_left() {
    let q = |rule, limit, remaining, reset_secs| Quota {
        rule,
        limit,
        remaining,
        reset_secs,
        window_secs: 60,
    };
    let cost = q("cost", 10_000, 9_000, 2);
    let orders = q("orders", 10, 8, 50);
    assert_eq!(
        Quota::tightest([cost, orders]),
        Some(orders),
        "90 % left vs 80 %"
    );
    let drained = q("cost", 10_000, 500, 19);
    assert_eq!(
        Quota::tightest([drained, orders]),
        Some(drained),
        "5 % vs 80 %"
    );
    // Equal shares: the one that resets last.
    let soon = q("a", 10, 5, 10);
    let late = q("b", 20, 10, 30);
    assert_eq!(Quota::tightest([soon, late]), Some(late));
    assert_eq!(Quota::tightest([]), None);
}

#[test]
fn a_bucket_level_is_a_quota() {
    let bucket = Bucket {
        capacity: 1000,
        refill_per_sec: 30,
    };
    let level = BucketLevel::new(bucket, 699.5);
    assert_eq!(level.remaining, 699);
    let quota = level.quota("cost");
    assert_eq!((quota.limit, quota.remaining), (1000, 699));
    assert_eq!(quota.reset_secs, 11, "300.5 points at 30/s, rounded up");
    assert_eq!(quota.window_secs, 34, "1000 points at 30/s, rounded up");
    assert_eq!(BucketLevel::new(bucket, 1000.0).full_in_secs, 0);
}

#[test]
fn parses_buckets() {
    assert_eq!(
        " 1000 , 50 ".trim().parse::<Bucket>(),
        Ok(Bucket {
            capacity: 1000,
            refill_per_sec: 50
        })
    );
    assert!("0,50".parse::<Bucket>().is_err());
    assert!("1000,0".parse::<Bucket>().is_err());
    assert!("1000/50".parse::<Bucket>().is_err());
}

#[tokio::test]
async fn buckets_spend_refuse_and_refill() {
    let limiter = RateLimiter::new(None, "t");
    let bucket = Bucket {
        capacity: 100,
        refill_per_sec: 50,
    };
    let spent = |s: Spend| match s {
        Spend::Spent(level) => level.remaining,
        Spend::Refused { .. } => panic!("refused: {s:?}"),
    };
    assert_eq!(spent(limiter.spend("test", bucket, "a", 60).await), 40);
    // 50 more than it holds: refused, nothing taken, a second until it holds enough.
    let refused = limiter.spend("test", bucket, "a", 90).await;
    let Spend::Refused {
        level,
        retry_after_secs,
    } = refused
    else {
        panic!("{refused:?}");
    };
    assert!((40..42).contains(&level.remaining), "{level:?}");
    assert_eq!(retry_after_secs, 1);
    assert!(
        matches!(
            limiter.spend("test", bucket, "b", 100).await,
            Spend::Spent(_)
        ),
        "keys are separate, and a new one starts full"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Refilled by 50 a second, never past the capacity.
    let left = spent(limiter.spend("test", bucket, "a", 90).await);
    assert!((4..15).contains(&left), "40 + 55 refilled - 90: {left}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(spent(limiter.spend("test", bucket, "a", 0).await), 100);
    let full = limiter.level(bucket, "a").await;
    assert_eq!((full.remaining, full.full_in_secs), (100, 0));
    spent(limiter.spend("test", bucket, "a", 30).await);
    let level = limiter.level(bucket, "a").await;
    assert!(
        (70..72).contains(&level.remaining),
        "reading spends nothing: {level:?}"
    );
    assert_eq!(level.full_in_secs, 1);
    // A cost over the capacity never fits.
    assert!(matches!(
        limiter.spend("test", bucket, "c", 101).await,
        Spend::Refused { .. }
    ));
}
