//! `zcc rebuild`: derive a state item again from its stored events, after an upgrade that
//! models more events or for events kept raw with `merge_error`.

use serde_json::Value;
use zcc_domain::ids::{EngagementId, UserId};
use zcc_shared::dynamodb::{DynamoStore, RebuildTarget, Rebuilt};

use super::CliError;

pub fn target(
    engagement_id: Option<String>,
    agent: Option<String>,
) -> Result<RebuildTarget, CliError> {
    match (engagement_id, agent) {
        (Some(id), None) => EngagementId::parse(id)
            .map(RebuildTarget::Engagement)
            .map_err(|e| CliError::Usage(format!("engagement id: {e}"))),
        (None, Some(id)) => UserId::parse(id)
            .map(RebuildTarget::Agent)
            .map_err(|e| CliError::Usage(format!("user id: {e}"))),
        _ => Err(CliError::Usage(
            "give an ENGAGEMENT_ID or --agent USER_ID".into(),
        )),
    }
}

pub async fn rebuild(
    store: &DynamoStore,
    target: &RebuildTarget,
    dry_run: bool,
) -> Result<Rebuilt, CliError> {
    let table_name = store.table();
    let rebuilt = store.rebuild(target, dry_run).await?;
    if rebuilt.events == 0 {
        return Err(CliError::NotFound(format!(
            "no events are stored under {} in {table_name}: nothing to rebuild from",
            rebuilt.pk
        )));
    }
    Ok(rebuilt)
}

pub fn render(rebuilt: &Rebuilt, dry_run: bool) -> String {
    let changes = if rebuilt.changed.is_empty() {
        "no attribute changes".to_owned()
    } else {
        format!("changes {}", rebuilt.changed.join(", "))
    };
    let verb = match (dry_run, rebuilt.written) {
        (true, _) => "would be rebuilt",
        (false, true) => "rebuilt",
        (false, false) => "already up to date",
    };
    let mut out = format!(
        "{}: {verb} from {} events ({changes})\n",
        rebuilt.pk, rebuilt.events
    );
    if rebuilt.previously_unmerged > 0 {
        out.push_str(&format!(
            "{} event(s) kept raw with merge_error {}\n",
            rebuilt.previously_unmerged,
            if rebuilt.written {
                "are merged now"
            } else {
                "would be merged"
            }
        ));
    }
    out
}

pub fn json(rebuilt: &Rebuilt) -> Value {
    serde_json::to_value(rebuilt).unwrap_or(Value::Null)
}
