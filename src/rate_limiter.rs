//! Request budgets: a token bucket per class of endpoint and per holder (a
//! client address, or a signed-in account for budgets that follow a person
//! whatever address they use), in memory, so each replica limits what it
//! sees. The HTTP side (which requests draw on which budget, the 429
//! answer) is `web::rate_limit`.

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

/// Whose budget it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Holder {
    /// A client address.
    Address(IpAddr),
    /// A signed-in account, by user id.
    Account(String),
}

impl From<IpAddr> for Holder {
    fn from(address: IpAddr) -> Holder {
        Holder::Address(address)
    }
}

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
    buckets: Mutex<HashMap<(Class, Holder), Bucket>>,
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

    /// Takes one request from the bucket; `Err(seconds)` to wait when empty.
    pub fn take(&self, class: Class, holder: impl Into<Holder>, now: Instant) -> Result<(), u64> {
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
            // Full buckets carry no information: forget them, each judged
            // by its own class's pace.
            buckets.retain(|(class, _), b| {
                let capacity = f64::from(self.per_minute(*class));
                b.tokens + now.duration_since(b.updated).as_secs_f64() * capacity / 60.0 < capacity
            });
        }
        let bucket = buckets.entry((class, holder.into())).or_insert(Bucket {
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

    /// Forgets every budget spent (test mode's reset: each test starts
    /// with full budgets).
    pub fn clear(&self) {
        match self.buckets.lock() {
            Ok(mut guard) => guard.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    /// Gives back one request taken with [`RateLimiter::take`]: for a
    /// budget counted before the request is judged (so that parallel
    /// requests cannot all pass a check made before any was counted) and
    /// spent only on the wrong ones.
    pub fn refund(&self, class: Class, holder: impl Into<Holder>) {
        let capacity = f64::from(self.per_minute(class));
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(bucket) = buckets.get_mut(&(class, holder.into())) {
            bucket.tokens = (bucket.tokens + 1.0).min(capacity);
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
            l.take(Class::SignIn, "192.0.2.2".parse::<IpAddr>().unwrap(), t0)
                .is_ok(),
            "per address"
        );
        assert!(l
            .take(Class::SignIn, ip, t0 + Duration::from_secs(10))
            .is_ok());
    }

    #[test]
    fn a_refund_gives_one_back_and_accounts_are_apart_from_addresses() {
        let l = limiter(6);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..WRONG_USER_CODES_PER_MINUTE {
            assert!(l.take(Class::UserCode, ip, t0).is_ok());
        }
        assert!(l.take(Class::UserCode, ip, t0).is_err());
        l.refund(Class::UserCode, ip);
        assert!(l.take(Class::UserCode, ip, t0).is_ok(), "the refunded one");
        assert!(l.take(Class::UserCode, ip, t0).is_err());
        let account = Holder::Account("u1".into());
        assert!(l.take(Class::UserCode, account.clone(), t0).is_ok());
        l.refund(Class::UserCode, account.clone());
        for _ in 0..WRONG_USER_CODES_PER_MINUTE {
            assert!(l.take(Class::UserCode, account.clone(), t0).is_ok());
        }
        assert!(
            l.take(Class::UserCode, account, t0).is_err(),
            "never above capacity"
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
