//! Reading `/metrics`: a series is found by its exact name and labels, and
//! one that is missing fails the test (it never reads as 0).

use super::app::TestApp;
use reqwest::StatusCode;

/// The value of the series `series` (name and labels, exactly as exported,
/// e.g. `gatehouse_sign_ins_total{result="success"}`) in `text`.
pub fn metric(text: &str, series: &str) -> f64 {
    let value = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then_some(value)
        })
        .unwrap_or_else(|| panic!("no series {series} in /metrics:\n{text}"));
    value
        .parse()
        .unwrap_or_else(|e| panic!("{series} = {value:?}: {e}"))
}

impl TestApp {
    /// The text of `/metrics` (on the main listener).
    pub async fn metrics_text(&self) -> String {
        let response = self.get("/metrics").await;
        assert_eq!(response.status(), StatusCode::OK, "GET /metrics");
        response.text().await.unwrap()
    }

    /// Waits until a pruning round that started after this call has
    /// finished (for apps with a short `prune_interval_secs`).
    pub async fn after_a_prune_round(&self) {
        let rounds = "gatehouse_prune_rounds_total";
        let start = metric(&self.metrics_text().await, rounds);
        let started = std::time::Instant::now();
        // The round under way when called may have read the clock before.
        while metric(&self.metrics_text().await, rounds) < start + 2.0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "no pruning round finished within 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
