//! Administration: settings, the dispatch queue, missing-recording alarms, the audit log,
//! storage, and the anonymous health and metrics endpoints.

use crate::calls::set_query;
use crate::{check, Client, Result};
use callrec_types::alarms::{Alarm, AlarmQuery};
use callrec_types::calls::DispatchTarget;
use callrec_types::wire::{
    AuditPage, RunReport, SchedulePreview, Settings, SettingsPatch, SmtpTestRequest, SmtpTestResult, StorageReport,
};
use callrec_types::{AlarmId, DispatchId, UserId};
use reqwest::Method;

impl Client {
    /// `GET /api/v1/settings` (the SMTP password shows as `""` or `"********"`).
    pub async fn get_settings(&self) -> Result<Settings> {
        self.get_json("/api/v1/settings").await
    }

    /// `PUT /api/v1/settings` with only the fields to change; returns the whole result.
    pub async fn update_settings(&self, patch: &SettingsPatch) -> Result<Settings> {
        self.send_body(Method::PUT, "/api/v1/settings", patch).await
    }

    /// `POST /api/v1/dispatch/run`: runs the dispatch job now; what the run did.
    pub async fn run_dispatch(&self) -> Result<RunReport> {
        self.send_json(self.request(Method::POST, self.url("/api/v1/dispatch/run")))
            .await
    }

    /// `GET /api/v1/dispatch`: the queue with each target's status.
    pub async fn list_dispatch(&self) -> Result<Vec<DispatchTarget>> {
        self.get_json("/api/v1/dispatch").await
    }

    /// `GET /api/v1/alarms?unacknowledged&limit`: missing-recording alarms, newest first.
    pub async fn list_alarms(&self, query: &AlarmQuery) -> Result<Vec<Alarm>> {
        let mut pairs = vec![("unacknowledged", query.unacknowledged.to_string())];
        if let Some(limit) = query.limit {
            pairs.push(("limit", limit.to_string()));
        }
        let mut url = self.url("/api/v1/alarms");
        set_query(&mut url, &pairs);
        self.send_json(self.request(Method::GET, url)).await
    }

    /// `POST /api/v1/alarms/{id}/ack`: acknowledges an alarm; the alarm afterwards.
    pub async fn ack_alarm(&self, id: AlarmId) -> Result<Alarm> {
        self.send_json(self.request(Method::POST, self.url(&format!("/api/v1/alarms/{id}/ack"))))
            .await
    }

    /// `GET /api/v1/audit?cursor&limit`: one page of the audit log, newest first.
    pub async fn audit(&self, cursor: Option<&str>, limit: Option<u32>) -> Result<AuditPage> {
        let mut pairs = Vec::new();
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor.to_string()));
        }
        if let Some(limit) = limit {
            pairs.push(("limit", limit.to_string()));
        }
        let mut url = self.url("/api/v1/audit");
        set_query(&mut url, &pairs);
        self.send_json(self.limited(self.request(Method::GET, url))).await
    }

    /// `GET /api/v1/storage`: bytes used and free, bytes per day, days until full.
    pub async fn storage(&self) -> Result<StorageReport> {
        self.get_json("/api/v1/storage").await
    }

    /// `GET /healthz`: `true` for a 2xx, `false` for any other status; `Err` only when the
    /// server cannot be reached.
    pub async fn healthz(&self) -> Result<bool> {
        let timeout = self.request_timeout_or(crate::HEALTH_TIMEOUT);
        let response = self
            .anonymous(Method::GET, self.url("/healthz"))
            .timeout(timeout)
            .send()
            .await?;
        Ok(response.status().is_success())
    }

    /// `GET /metrics`: the Prometheus text exposition.
    pub async fn metrics(&self) -> Result<String> {
        let response = self.anonymous(Method::GET, self.url("/metrics")).send().await?;
        Ok(check(response).await?.text().await?)
    }
}

/// The audit log's filters; `None` leaves a filter out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// One action name (`rule_update`, `dispatch_run`, …).
    pub action: Option<String>,
    /// Entries by this user.
    pub user_id: Option<UserId>,
}

impl Client {
    /// `POST /api/v1/dispatch/{id}/retry`: sends one target again now; returns it afterwards.
    pub async fn retry_dispatch(&self, id: DispatchId) -> Result<DispatchTarget> {
        let url = self.url_segments(&["api", "v1", "dispatch", &id.to_string(), "retry"])?;
        self.send_json(self.request(Method::POST, url)).await
    }

    /// `GET /api/v1/audit?cursor&limit&action&user_id`: one filtered page, newest first.
    pub async fn audit_filtered(&self, query: &AuditQuery) -> Result<AuditPage> {
        let mut pairs = Vec::new();
        if let Some(cursor) = &query.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        if let Some(limit) = query.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(action) = &query.action {
            pairs.push(("action", action.clone()));
        }
        if let Some(user_id) = query.user_id {
            pairs.push(("user_id", user_id.to_string()));
        }
        let mut url = self.url("/api/v1/audit");
        set_query(&mut url, &pairs);
        self.send_json(self.limited(self.request(Method::GET, url))).await
    }

    /// `GET /api/v1/settings/schedule/preview?cron=`: the next three runs of `cron` (of the
    /// saved schedule when `None`); a bad expression is a 422 on `dispatch_schedule`.
    pub async fn schedule_preview(&self, cron: Option<&str>) -> Result<SchedulePreview> {
        let mut url = self.url("/api/v1/settings/schedule/preview");
        if let Some(cron) = cron {
            set_query(&mut url, &[("cron", cron.to_string())]);
        }
        self.send_json(self.limited(self.request(Method::GET, url))).await
    }

    /// `POST /api/v1/settings/smtp/test {to}`: sends a test message with the saved SMTP
    /// settings (422 on `to` or `smtp.host`, 502 `smtp_failed` with the server's reason).
    pub async fn smtp_test(&self, to: &str) -> Result<SmtpTestResult> {
        let body = SmtpTestRequest { to: to.to_string() };
        self.send_body(Method::POST, "/api/v1/settings/smtp/test", &body).await
    }
}

#[cfg(test)]
mod tests {
    use crate::test_server::{serve, Canned};

    #[tokio::test]
    async fn health_metrics_dispatch_and_audit_paging() {
        let (client, server) = serve(vec![
            Canned::empty(200),
            Canned::text(503, "starting"),
            Canned::text(200, "callrec_calls_total 3\n"),
            Canned::json(200, r#"{"sent":2,"pending":1}"#),
            Canned::json(200, r#"{"items":[],"next_cursor":null}"#),
        ])
        .await;
        let client = client.with_token("t");
        assert!(client.healthz().await.expect("reachable"), "200 is healthy");
        assert!(!client.healthz().await.expect("reachable"), "503 is not healthy");
        assert_eq!(client.metrics().await.expect("metrics"), "callrec_calls_total 3\n");
        let run = client.run_dispatch().await.expect("a run report");
        assert_eq!(
            (run.sent, run.pending, run.failed),
            (2, 1, 0),
            "missing counts read as zero"
        );
        let page = client.audit(Some("c 1"), Some(10)).await.expect("audit page");
        assert!(page.items.is_empty());

        let requests = server.await.expect("server ran");
        assert_eq!(requests[0].header("authorization"), None, "healthz is anonymous");
        assert_eq!(requests[3].request_line(), "POST /api/v1/dispatch/run HTTP/1.1");
        assert_eq!(
            requests[4].request_line(),
            "GET /api/v1/audit?cursor=c+1&limit=10 HTTP/1.1"
        );
    }
}
