//! The clock, passed in so that expiry, throttling, schedules and retention can be tested with a
//! time the test controls. Besides telling the time, a clock can be waited on
//! ([`Clock::wait_until`]): the scheduler sleeps until its next run instead of polling, and a
//! test's [`ManualClock`] wakes it the moment the test moves the time.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::watch;

/// What [`Clock::wait_until`] returns.
pub type Wait<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Resolves when the time may have reached `at`, the caller having last read `seen`; the
    /// caller reads [`Clock::now`] again. A wait may end early, never much later than `at`: a
    /// manual clock ends it whenever the time is no longer `seen` (moved either way).
    fn wait_until(&self, at: DateTime<Utc>, seen: DateTime<Utc>) -> Wait<'_>;
}

pub struct SystemClock;

/// The longest the system clock sleeps in one go, so that a wall clock set forward (or a
/// machine woken from suspend) is noticed within this time.
pub const MAX_SLEEP: Duration = Duration::from_secs(30);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn wait_until(&self, at: DateTime<Utc>, _seen: DateTime<Utc>) -> Wait<'_> {
        Box::pin(tokio::time::sleep(sleep_for(at, Utc::now())))
    }
}

/// How long the system clock sleeps to reach `at` from `now`: at most [`MAX_SLEEP`].
fn sleep_for(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO).min(MAX_SLEEP)
}

/// A clock that stands still until moved; for tests. Moving it wakes whoever waits on it.
pub struct ManualClock(watch::Sender<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(watch::Sender::new(at))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.send_replace(at);
    }
    pub fn advance(&self, by: chrono::Duration) {
        self.0.send_modify(|t| *t += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    fn wait_until(&self, at: DateTime<Utc>, seen: DateTime<Utc>) -> Wait<'_> {
        let mut moved = self.0.subscribe();
        Box::pin(async move {
            // `wait_for` looks at the current time first, so a move made before this future
            // ran is not missed. The sender lives as long as `self`.
            let _ = moved.wait_for(|t| *t >= at || *t != seen).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, s).single().expect("valid")
    }

    #[tokio::test]
    async fn a_manual_clock_wakes_its_waiter_when_moved() {
        let clock = std::sync::Arc::new(ManualClock::new(t(0)));
        let waiter = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.wait_until(t(10), t(0)).await })
        };
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiter.is_finished(), "the clock has not moved");
        clock.advance(chrono::Duration::seconds(5));
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken at once by the move")
            .expect("task");
    }

    #[tokio::test]
    async fn a_move_made_before_the_wait_began_is_not_missed() {
        let clock = ManualClock::new(t(0));
        clock.advance(chrono::Duration::seconds(1));
        tokio::time::timeout(Duration::from_secs(5), clock.wait_until(t(10), t(0)))
            .await
            .expect("the time is no longer what the caller saw");
    }

    #[tokio::test]
    async fn a_time_already_passed_does_not_wait() {
        let clock = ManualClock::new(t(20));
        tokio::time::timeout(Duration::from_secs(5), clock.wait_until(t(10), t(20)))
            .await
            .expect("no wait");
    }

    #[test]
    fn the_system_clock_sleeps_until_the_time_but_no_longer_than_its_cap() {
        assert_eq!(sleep_for(t(10), t(0)), Duration::from_secs(10));
        assert_eq!(sleep_for(t(0), t(10)), Duration::ZERO, "a time passed does not wait");
        let far = t(0) + chrono::Duration::days(1);
        assert_eq!(
            sleep_for(far, t(0)),
            MAX_SLEEP,
            "a day away is looked at again after the cap"
        );
    }
}
