//! The answers we read, in the shapes of Zoom's published specs (sources in
//! `shared/fixtures/zoom-api/SOURCES.md`). Every field the spec marks optional is optional
//! here; what a run relies on is checked (a page without its array is not the documented
//! JSON). Unknown fields are ignored.

use serde::Deserialize;
use zcc_domain::timestamp::Timestamp;
use zcc_domain::zoom::ZoomApiEngagement;

/// `POST https://zoom.us/oauth/token?grant_type=account_credentials` (S2S OAuth page).
#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub expires_in: i64,
}

/// `GET /marketplace/apps/{appId}/webhook_logs` (Marketplace spec, `getWebhookLogs`).
#[derive(Debug, Deserialize)]
pub struct WebhookLogsPage {
    #[serde(default)]
    pub next_page_token: Option<String>,
    pub webhook_logs: Vec<WebhookLog>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookLog {
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub status: Option<i64>,
    /// The whole payload we were sent, as a JSON string.
    #[serde(default)]
    pub request_body: Option<String>,
    #[serde(default)]
    pub date_time: Option<String>,
    /// The same across the retries of one delivery.
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub retry_num: Option<i64>,
}

/// `GET /contact_center/engagements` (CC spec, `listEngagements`).
#[derive(Debug, Deserialize)]
pub struct EngagementsPage {
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub total_records: Option<i64>,
    pub engagements: Vec<Engagement>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Channel {
    pub channel: Option<String>,
    pub channel_source: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Consumer {
    pub consumer_id: Option<String>,
    pub consumer_display_name: Option<String>,
    pub consumer_number: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Flow {
    pub flow_id: Option<String>,
    pub flow_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Queue {
    pub cc_queue_id: Option<String>,
    /// Deprecated in the detail's spec; read when `cc_queue_id` is absent.
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Agent {
    pub user_id: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Disposition {
    pub disposition_id: Option<String>,
    pub disposition_name: Option<String>,
}

/// One engagement as the list or the detail gives it: the fields both have, plus the list's
/// `transfer_count`. The detail's `events[]`, `notes[]` and the rest are not read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Engagement {
    pub engagement_id: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub duration: Option<i64>,
    pub direction: Option<String>,
    pub channels: Vec<Channel>,
    pub consumers: Vec<Consumer>,
    pub flows: Vec<Flow>,
    pub queues: Vec<Queue>,
    pub agents: Vec<Agent>,
    pub talk_duration: Option<i64>,
    pub waiting_duration: Option<i64>,
    pub handling_duration: Option<i64>,
    pub wrap_up_duration: Option<i64>,
    pub transfer_count: Option<u32>,
    pub dispositions: Vec<Disposition>,
    pub survey_id: Option<String>,
}

impl Engagement {
    /// Whether the answer says anything: Zoom may answer an engagement that ended seconds
    /// ago with an empty body while it persists it.
    pub fn is_empty(&self) -> bool {
        self.engagement_id.as_deref().is_none_or(str::is_empty) || self.start_time.is_none()
    }

    pub fn start(&self) -> Result<Option<Timestamp>, String> {
        time_of(self.start_time.as_deref())
    }

    pub fn end(&self) -> Result<Option<Timestamp>, String> {
        time_of(self.end_time.as_deref())
    }

    /// The record's facts from the detail, with `transfer_count` from the list's row (the
    /// detail has none).
    pub fn facts(
        &self,
        list_row: Option<&Engagement>,
        account_id: &str,
    ) -> Result<ZoomApiEngagement, String> {
        let nonblank = |v: &Option<String>| v.as_ref().filter(|s| !s.trim().is_empty()).cloned();
        let channel = self.channels.first();
        let consumer = self.consumers.first();
        let flow = self.flows.first();
        let queue = self.queues.last();
        let agent = self.agents.last();
        let disposition = self.dispositions.last();
        Ok(ZoomApiEngagement {
            engagement_id: self.engagement_id.clone().unwrap_or_default(),
            account_id: Some(account_id.to_owned()),
            start_time: self.start()?,
            end_time: self.end()?,
            direction: nonblank(&self.direction),
            channel: channel.and_then(|c| nonblank(&c.channel)),
            channel_source: channel.and_then(|c| nonblank(&c.channel_source)),
            consumer_id: consumer.and_then(|c| nonblank(&c.consumer_id)),
            consumer_number: consumer.and_then(|c| nonblank(&c.consumer_number)),
            consumer_display_name: consumer.and_then(|c| nonblank(&c.consumer_display_name)),
            flow_id: flow.and_then(|f| nonblank(&f.flow_id)),
            flow_name: flow.and_then(|f| nonblank(&f.flow_name)),
            queue_id: queue
                .and_then(|q| nonblank(&q.cc_queue_id).or_else(|| nonblank(&q.queue_id))),
            queue_name: queue.and_then(|q| nonblank(&q.queue_name)),
            agent_user_id: agent.and_then(|a| nonblank(&a.user_id)),
            agent_display_name: agent.and_then(|a| nonblank(&a.display_name)),
            agents: self
                .agents
                .iter()
                .filter_map(|a| nonblank(&a.user_id))
                .collect(),
            duration_s: self.duration,
            talk_s: self.talk_duration,
            waiting_s: self.waiting_duration,
            handling_s: self.handling_duration,
            wrap_up_s: self.wrap_up_duration,
            transfer_count: self
                .transfer_count
                .or(list_row.and_then(|r| r.transfer_count)),
            disposition_id: disposition.and_then(|d| nonblank(&d.disposition_id)),
            disposition_name: disposition.and_then(|d| nonblank(&d.disposition_name)),
            survey_id: nonblank(&self.survey_id),
        })
    }
}

/// Zoom's `yyyy-MM-dd'T'HH:mm:ss'Z'` (we always ask for `timezone=UTC`); an offset is read
/// as what it says.
fn time_of(text: Option<&str>) -> Result<Option<Timestamp>, String> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Timestamp::parse(t).map(Some).map_err(|_| {
            format!(
                "`{}` is not an ISO-8601 time",
                t.chars().take(40).collect::<String>()
            )
        }),
    }
}

/// Zoom's query time format, `yyyy-MM-dd'T'HH:mm:ss'Z'`.
pub fn query_time(at: Timestamp) -> String {
    let iso = at.to_iso();
    format!("{}Z", &iso[..19])
}
