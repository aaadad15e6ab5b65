//! Repeating a call that was throttled or failed transiently: forward's puts to CloudWatch
//! Logs and notify's publishes to SNS, on top of the SDK's own retries.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

/// How often and how patiently a call is repeated: `attempts` in all, waiting `first_delay`,
/// doubling up to `max_delay`, each wait drawn between half and all of that ("equal jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts over about 8 seconds at most.
    fn default() -> Self {
        Self {
            attempts: 6,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`.
    fn delay(&self, attempt: u32) -> Duration {
        let doubled = self
            .first_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let half = doubled / 2;
        half + half.mul_f64(rand::thread_rng().r#gen::<f64>())
    }
}

/// A call that failed for good: its last error, after `attempts` attempts.
#[derive(Debug)]
pub struct Exhausted<E> {
    pub attempts: u32,
    pub error: E,
}

/// Runs `operation` until it succeeds, fails with an error `is_retryable` refuses, or the
/// policy's attempts run out, waiting between attempts as the policy says. Returns the value
/// and the attempts it took.
pub async fn retry<T, E, Operation, Attempt>(
    policy: &RetryPolicy,
    mut operation: Operation,
    is_retryable: impl Fn(&E) -> bool,
) -> Result<(T, u32), Exhausted<E>>
where
    Operation: FnMut() -> Attempt,
    Attempt: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut attempt = 1;
    loop {
        match operation().await {
            Ok(value) => return Ok((value, attempt)),
            Err(error) if is_retryable(&error) && attempt < policy.attempts => {
                let delay = policy.delay(attempt);
                tracing::warn!(
                    attempt,
                    delay_ms = delay.as_millis() as u64,
                    %error,
                    "throttled or failed transiently; repeating it"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(error) => {
                return Err(Exhausted {
                    attempts: attempt,
                    error,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const FAST: RetryPolicy = RetryPolicy {
        attempts: 3,
        first_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let policy = RetryPolicy {
            attempts: 10,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for (attempt, full) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
            for _ in 0..20 {
                let delay = policy.delay(attempt).as_millis();
                assert!(
                    (full / 2..=full).contains(&delay),
                    "attempt {attempt}: {delay} ms"
                );
            }
        }
        let default = RetryPolicy::default();
        let worst: Duration = (1..default.attempts)
            .map(|a| {
                default
                    .first_delay
                    .saturating_mul(1 << (a - 1))
                    .min(default.max_delay)
            })
            .sum();
        assert!(worst <= Duration::from_secs(9), "{worst:?}");
    }

    #[tokio::test]
    async fn a_retryable_failure_is_repeated_until_it_succeeds_or_the_attempts_run_out() {
        let calls = Cell::new(0);
        let result = retry(
            &FAST,
            || {
                calls.set(calls.get() + 1);
                let call = calls.get();
                async move { if call < 3 { Err("busy") } else { Ok(call) } }
            },
            |_| true,
        )
        .await;
        assert_eq!(result.unwrap(), (3, 3));

        calls.set(0);
        let result: Result<((), u32), _> = retry(
            &FAST,
            || {
                calls.set(calls.get() + 1);
                async { Err("busy") }
            },
            |_| true,
        )
        .await;
        let exhausted = result.unwrap_err();
        assert_eq!(
            (exhausted.attempts, exhausted.error, calls.get()),
            (3, "busy", 3)
        );
    }

    #[tokio::test]
    async fn a_lasting_failure_is_not_repeated() {
        let calls = Cell::new(0);
        let result: Result<((), u32), _> = retry(
            &FAST,
            || {
                calls.set(calls.get() + 1);
                async { Err("denied") }
            },
            |error| *error != "denied",
        )
        .await;
        assert_eq!(result.unwrap_err().attempts, 1);
        assert_eq!(calls.get(), 1);
    }
}
