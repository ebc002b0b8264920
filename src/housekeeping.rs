//! Housekeeping: one pruning round, run by every server every
//! `prune_interval_secs`. It deletes what nothing can use any more (see
//! `store::pruning` for what that is, and why a live token loses nothing),
//! audit events past `audit_retention_days`, and retired signing keys no
//! token they signed can still need; then counts what went in
//! `gatehouse_pruned_rows_total` and says so in a debug line.

use crate::state::Provider;

/// Runs one round at the provider's `now`.
pub async fn prune(provider: &Provider) {
    let now = provider.now();
    let keep_days = provider.config.audit_retention_days;
    // Test mode keeps its whole audit log, whatever time a test moved the
    // clock to: every test-mode action stays recorded.
    let audit_before = (keep_days > 0 && !provider.test_mode())
        .then(|| now.saturating_sub(keep_days.saturating_mul(86_400)));
    match provider.store.prune(now, audit_before).await {
        Ok(pruned) => {
            for (kind, n) in &pruned.counts {
                provider
                    .metrics
                    .pruned_rows
                    .with_label_values(&[kind])
                    .inc_by(*n);
            }
            tracing::debug!(rows = pruned.total(), pruned = %pruned, "pruned expired rows");
        }
        Err(e) => tracing::warn!(error = %e, "pruning expired rows failed"),
    }
    let longest = provider
        .config
        .access_token_ttl
        .max(provider.config.id_token_ttl);
    if let Err(e) = crate::key_lifecycle::prune(&provider.store, longest, now).await {
        tracing::warn!(error = %e, "pruning retired keys failed");
    }
    provider.metrics.prune_rounds.inc();
}
