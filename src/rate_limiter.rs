//! Per-address request budgets: a token bucket per client address and class
//! of endpoint, in memory, so each replica limits what it sees. The HTTP
//! side (which requests draw on which budget, the 429 answer) is
//! `web::rate_limit`.

use crate::config::Config;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Which budget a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Password and TOTP form posts.
    SignIn,
    /// Token, introspection and revocation requests.
    BackChannel,
    /// Wrong user codes typed on the device screen (RFC 8628 §5.1): a
    /// small budget, since each guess could open a device's tokens.
    UserCode,
}

/// Wrong user codes an address may type in a burst; then one more every
/// `60 / WRONG_USER_CODES_PER_MINUTE` seconds.
pub const WRONG_USER_CODES_PER_MINUTE: u32 = 5;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of one server.
#[derive(Debug)]
pub struct RateLimiter {
    sign_in_per_minute: u32,
    back_channel_per_minute: u32,
    buckets: Mutex<HashMap<(Class, IpAddr), Bucket>>,
}

/// Buckets kept before idle ones are swept.
const SWEEP_AT: usize = 50_000;

impl RateLimiter {
    /// Limits from the configuration (0 turns a class off).
    pub fn new(config: &Config) -> RateLimiter {
        RateLimiter {
            sign_in_per_minute: config.rate_limit_sign_in,
            back_channel_per_minute: config.rate_limit_back_channel,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn per_minute(&self, class: Class) -> u32 {
        match class {
            Class::SignIn => self.sign_in_per_minute,
            Class::BackChannel => self.back_channel_per_minute,
            Class::UserCode => WRONG_USER_CODES_PER_MINUTE,
        }
    }

    /// Whether the bucket is empty, without taking from it: `Some(seconds)`
    /// to wait, for a budget drawn on only when a request turns out wrong.
    pub fn waiting(&self, class: Class, address: IpAddr, now: Instant) -> Option<u64> {
        let per_minute = self.per_minute(class);
        if per_minute == 0 {
            return None;
        }
        let (capacity, per_second) = (f64::from(per_minute), f64::from(per_minute) / 60.0);
        let buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let bucket = buckets.get(&(class, address))?;
        let refill = now.duration_since(bucket.updated).as_secs_f64() * per_second;
        let tokens = (bucket.tokens + refill).min(capacity);
        (tokens < 1.0).then(|| ((1.0 - tokens) / per_second).ceil().max(1.0) as u64)
    }

    /// Takes one request from the bucket; `Err(seconds)` to wait when empty.
    pub fn take(&self, class: Class, address: IpAddr, now: Instant) -> Result<(), u64> {
        let per_minute = self.per_minute(class);
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() > SWEEP_AT {
            // Full buckets carry no information: forget them.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry((class, address)).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(sign_in: u32) -> RateLimiter {
        let config = Config {
            rate_limit_sign_in: sign_in,
            ..Config::default()
        };
        RateLimiter::new(&config)
    }

    #[test]
    fn a_bucket_empties_and_refills() {
        let l = limiter(6);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..6 {
            assert!(l.take(Class::SignIn, ip, t0).is_ok());
        }
        assert_eq!(l.take(Class::SignIn, ip, t0), Err(10), "one token per 10 s");
        assert!(
            l.take(Class::SignIn, "192.0.2.2".parse().unwrap(), t0)
                .is_ok(),
            "per address"
        );
        assert!(l
            .take(Class::SignIn, ip, t0 + Duration::from_secs(10))
            .is_ok());
    }

    #[test]
    fn waiting_reads_a_bucket_without_taking() {
        let l = limiter(6);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!(l.waiting(Class::UserCode, ip, t0), None, "no bucket yet");
        for _ in 0..WRONG_USER_CODES_PER_MINUTE {
            assert_eq!(l.waiting(Class::UserCode, ip, t0), None);
            assert!(l.take(Class::UserCode, ip, t0).is_ok());
        }
        assert_eq!(l.waiting(Class::UserCode, ip, t0), Some(12));
        assert_eq!(
            l.waiting(Class::UserCode, ip, t0),
            Some(12),
            "nothing taken"
        );
        assert_eq!(
            l.waiting(Class::UserCode, ip, t0 + Duration::from_secs(12)),
            None
        );
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let l = limiter(0);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..1000 {
            assert!(l.take(Class::SignIn, ip, Instant::now()).is_ok());
        }
    }
}
