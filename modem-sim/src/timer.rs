//! Sub-millisecond sleeps for the realtime driver (issue 15).
//!
//! tokio's timer wheel ticks in whole milliseconds and rounds a deadline up to the next
//! tick, so at a small time scale a modeled delay of 1.2 ms lasted about 2.1 ms. A
//! [`Sleeper`] sleeps on tokio's wheel until two ticks before the deadline and spends
//! the rest on a Linux `timerfd` (an hrtimer, microseconds late at most) made the first
//! time a deadline is that close, so an idle modem, or one at real time whose deadlines are
//! seconds apart, holds no extra descriptor until it needs one.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};
use tokio::io::unix::AsyncFd;
use tracing::warn;

/// How far ahead of a deadline the wheel's sleep ends: it rounds up to the next of its
/// millisecond ticks, and the thread may wake late on top.
const WHEEL_MARGIN: Duration = Duration::from_millis(2);

/// Sleeps to a deadline with microsecond rather than millisecond precision.
#[derive(Debug, Default)]
pub struct Sleeper {
    /// The fine timer, once a deadline came within a tick; `Err` remembers that it could
    /// not be made (then the wheel's precision has to do).
    fine: Option<Result<AsyncFd<OwnedFd>, ()>>,
}

impl Sleeper {
    /// Return at `deadline` (at once if it has passed). Cancel-safe: a sleep dropped half
    /// way leaves nothing behind that a later one would mistake for its own expiry.
    pub async fn sleep_until(&mut self, deadline: Instant) {
        if let Some(coarse) = deadline.checked_sub(WHEEL_MARGIN)
            && coarse > Instant::now()
        {
            tokio::time::sleep_until(coarse.into()).await;
        }
        let fine = self.fine.get_or_insert_with(|| {
            fine_timer().map_err(|error| {
                warn!(%error, "no timerfd: timers keep tokio's millisecond precision");
            })
        });
        match fine {
            Ok(timer) => fine_sleep(timer, deadline).await,
            Err(()) => tokio::time::sleep_until(deadline.into()).await,
        }
    }
}

fn fine_timer() -> std::io::Result<AsyncFd<OwnedFd>> {
    let fd = timerfd_create(
        TimerfdClockId::Monotonic,
        TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
    )?;
    // As for the inotify descriptor (`realtime`): an `OwnedFd` keeps one descriptor for
    // its whole life, which is what the unsafe `register` asks its caller to promise.
    #[allow(deprecated)]
    AsyncFd::new(fd)
}

/// Arm `timer` for what is left until `deadline` and wait for it. An expiry left over from
/// an earlier, cancelled sleep only wakes the loop early, which checks the clock again.
async fn fine_sleep(timer: &AsyncFd<OwnedFd>, deadline: Instant) {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let armed = timerfd_settime(
            timer.get_ref(),
            TimerfdTimerFlags::empty(),
            &Itimerspec {
                it_interval: timespec(Duration::ZERO),
                it_value: timespec(left),
            },
        );
        if let Err(error) = armed {
            warn!(%error, "timerfd_settime failed");
            tokio::time::sleep_until(deadline.into()).await;
            return;
        }
        let Ok(mut ready) = timer.readable().await else {
            tokio::time::sleep_until(deadline.into()).await;
            return;
        };
        // Reading the expiry count clears it; nothing to read means a stale readiness.
        let mut count = [0u8; 8];
        if rustix::io::read(timer.get_ref(), &mut count).is_err() {
            ready.clear_ready();
        }
    }
}

fn timespec(duration: Duration) -> Timespec {
    Timespec {
        // A sleep is never 292 billion years long; saturate rather than wrap if it were.
        tv_sec: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(duration.subsec_nanos()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Never early, through the fine timer; a sleep cancelled half way (its timer armed)
    /// does not end the next one early. How late it is, is `benches/realtime_dial`'s.
    #[tokio::test(flavor = "current_thread")]
    async fn sleeps_to_the_deadline_and_no_less() {
        let mut sleeper = Sleeper::default();
        for micros in [0, 300, 1_200, 2_500] {
            let start = Instant::now();
            sleeper
                .sleep_until(start + Duration::from_micros(micros))
                .await;
            assert!(start.elapsed() >= Duration::from_micros(micros));
        }
        // Armed, then dropped: the other branch is ready on its second poll.
        let start = Instant::now();
        tokio::select! {
            biased;
            () = sleeper.sleep_until(start + Duration::from_micros(800)) => {
                panic!("the first sleep was not cut short");
            }
            () = tokio::task::yield_now() => {}
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        let start = Instant::now();
        sleeper
            .sleep_until(start + Duration::from_micros(1_500))
            .await;
        assert!(start.elapsed() >= Duration::from_micros(1_500));
    }
}
